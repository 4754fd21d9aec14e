#!/usr/bin/env python3
"""Regenerates the code lists carried in crates/model/codelists/ from their public sources.

Sources (see crates/model/codelists/README.md for licences):
  - ISO 3166-1 alpha-2 and ISO 4217: Debian `iso-codes` JSON (/usr/share/iso-codes/json/).
  - HS 2022 six-digit subheadings: ../shared/data/hs/hs2022.csv.
  - UN/LOCODE 2023-2: ../shared/data/locode/unlocode-2023-2.csv.
Run from the repository root: python3 tools/gen_codelists.py
"""
import csv, json, os, sys

OUT = "crates/model/codelists"
SHARED = os.environ.get("BORDERLINK_SHARED", "../shared")

def write(name, lines, header):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(header)
        for l in lines:
            f.write(l + "\n")
    print(f"{name}: {len(lines)} entries", file=sys.stderr)

iso = json.load(open("/usr/share/iso-codes/json/iso_3166-1.json"))["3166-1"]
write("iso3166-1.tsv", sorted(f"{c['alpha_2']}\t{c['name']}" for c in iso),
      "# ISO 3166-1 alpha-2 country codes (source: Debian iso-codes, LGPL-2.1+)\n")
cur = json.load(open("/usr/share/iso-codes/json/iso_4217.json"))["4217"]
write("iso4217.tsv", sorted(f"{c['alpha_3']}\t{c['name']}" for c in cur),
      "# ISO 4217 currency codes (source: Debian iso-codes, LGPL-2.1+)\n")

hs = []
with open(os.path.join(SHARED, "data/hs/hs2022.csv"), newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        # 999999 ("commodities not specified according to kind") is a statistical code of
        # national tariffs, not a WCO HS 2022 subheading: the mirrored CSV carries it, we do not.
        if row["level"] == "6" and row["hscode"] != "999999":
            desc = " ".join(row["description"].split())
            hs.append(f"{row['hscode']}\t{desc}")
write("hs2022.tsv", sorted(hs),
      "# HS 2022 six-digit subheadings (nomenclature: World Customs Organization; list as in shared/data/hs)\n")

codes = set()
names = {}
with open(os.path.join(SHARED, "data/locode/unlocode-2023-2.csv"), newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        if len(row) < 3:
            continue
        change, country, loc = row[0], row[1].strip(), row[2].strip()
        if not loc or change == "X":  # country header rows, and entries marked for deletion
            continue
        if country == "AD" and loc == "XXX":  # the release's test row
            continue
        codes.add(country + loc)
        names.setdefault(country + loc, " ".join(row[3].split()))
write("unlocode-2023-2.txt", sorted(codes),
      "# UN/LOCODE release 2023-2, five-character codes (source: UNECE via uncefact/vocab-locode, MIT)\n")
write("unlocode-2023-2-names.tsv", [f"{c}\t{names[c]}" for c in sorted(codes)],
      "# UN/LOCODE release 2023-2, location names (column Name, with diacritics; source: UNECE via uncefact/vocab-locode, MIT)\n")
