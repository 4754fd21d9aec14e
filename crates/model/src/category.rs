//! Declaration categories: what kind of declaration a `TypeCode` says it is, and which elements
//! each kind must carry — both as tables, so that a rule's dependence on the category is read
//! in one place, not spread over code paths.
//!
//! WCO DM `Declaration/TypeCode` (D013, `an..3`) carries the declaration type (EUCDM / UK DE 1/1:
//! `IM`, `EX`, `CO`) followed by the additional declaration type (DE 1/2: `A`–`F`, `J`, `K`,
//! `X`–`Z`), as the UK CDS does (`IMA`, `EXJ`); the additional messages of a declaration service
//! have whole codes of their own (`COR` an amendment, `INV` an invalidation request).
//!
//! A simplified declaration legitimately lacks what a full one must give (a simplified export
//! without a commodity code is complete), and an amendment or invalidation carries only what it
//! changes; [`REQUIREMENTS`] says which element each category requires, and the rule that
//! reports its absence.

use serde::Serialize;

/// The kinds of declaration that decide which elements are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A standard (full) declaration for goods presented (DE 1/2 `A`).
    Standard,
    /// A standard declaration lodged before the goods are presented (`D`).
    PreLodged,
    /// A simplified declaration or customs clearance request for goods presented (`B`, `C`, `J`).
    Simplified,
    /// A simplified declaration lodged before the goods are presented (`E`, `F`, `K`).
    PreLodgedSimplified,
    /// A supplementary declaration completing a simplified one or an entry in the records (`X`, `Y`, `Z`).
    Supplementary,
    /// An amendment of a lodged declaration (`COR`).
    Amendment,
    /// A request to invalidate (cancel) a lodged declaration (`INV`).
    Invalidation,
    /// No `TypeCode` is given: the requirements of a standard declaration apply.
    Unspecified,
    /// The `TypeCode` is not a known category (an error); no category requirement is applied.
    Unknown,
}

impl Category {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Category::Standard => "standard",
            Category::PreLodged => "pre-lodged",
            Category::Simplified => "simplified",
            Category::PreLodgedSimplified => "pre-lodged-simplified",
            Category::Supplementary => "supplementary",
            Category::Amendment => "amendment",
            Category::Invalidation => "invalidation",
            Category::Unspecified => "unspecified",
            Category::Unknown => "unknown",
        }
    }

    const ALL: [Category; 9] = [
        Category::Standard,
        Category::PreLodged,
        Category::Simplified,
        Category::PreLodgedSimplified,
        Category::Supplementary,
        Category::Amendment,
        Category::Invalidation,
        Category::Unspecified,
        Category::Unknown,
    ];

    fn column(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// DE 1/1, the declaration type: the first two letters of `TypeCode`.
pub const DECLARATION_TYPES: [(&str, &str); 5] = [
    ("IM", "import"),
    ("EX", "export or re-export"),
    ("CO", "goods of the Union moving to or from a special fiscal territory"),
    ("EU", "declaration type EU (accepted as in earlier releases)"),
    ("TR", "declaration type TR (accepted as in earlier releases)"),
];

/// DE 1/2, the additional declaration type: the third letter of `TypeCode`.
pub const ADDITIONAL_TYPES: [(char, Category, &str); 11] = [
    ('A', Category::Standard, "standard declaration"),
    ('B', Category::Simplified, "simplified declaration, occasional use"),
    ('C', Category::Simplified, "simplified declaration, regular use"),
    ('D', Category::PreLodged, "standard declaration lodged before presentation of the goods"),
    ('E', Category::PreLodgedSimplified, "simplified declaration, occasional use, lodged before presentation"),
    ('F', Category::PreLodgedSimplified, "simplified declaration, regular use, lodged before presentation"),
    ('J', Category::Simplified, "customs clearance request for goods presented"),
    ('K', Category::PreLodgedSimplified, "customs clearance request lodged before presentation"),
    ('X', Category::Supplementary, "supplementary declaration to a B or E simplified declaration"),
    ('Y', Category::Supplementary, "supplementary declaration to a C or F simplified declaration"),
    ('Z', Category::Supplementary, "supplementary declaration to an entry in the declarant's records"),
];

/// Whole `TypeCode`s of the additional messages of a declaration (with `FunctionCode` 13).
pub const MESSAGE_TYPES: [(&str, Category, &str); 2] = [
    ("COR", Category::Amendment, "amendment of a lodged declaration"),
    ("INV", Category::Invalidation, "request to invalidate a lodged declaration"),
];

/// One requirement: the rule that reports an absent element, the element, and the categories
/// (in the order of [`Category`]: standard, pre-lodged, simplified, pre-lodged simplified,
/// supplementary, amendment, invalidation, unspecified, unknown) that require it.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// The rule reported when the element is missing.
    pub rule: &'static str,
    /// The element, as a WCO path below `Declaration`.
    pub element: &'static str,
    /// Whether each category requires it.
    pub required: [bool; 9],
}

const Y: bool = true;
const N: bool = false;

/// Which elements each category requires.
pub const REQUIREMENTS: [Requirement; 6] = [
    //                                                                      std pre simp pres supp amd inv unsp unk
    Requirement {
        rule: "declaration.goods_shipment_missing",
        element: "GoodsShipment",
        required: [Y, Y, Y, Y, Y, N, N, Y, N],
    },
    Requirement {
        rule: "declaration.no_items",
        element: "GoodsShipment/GovernmentAgencyGoodsItem",
        required: [Y, Y, Y, Y, Y, N, N, Y, N],
    },
    Requirement {
        rule: "item.commodity_missing",
        element: "GoodsShipment/GovernmentAgencyGoodsItem/Commodity",
        required: [Y, Y, Y, Y, Y, N, N, Y, N],
    },
    Requirement {
        rule: "hs.missing",
        element: "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification",
        required: [Y, Y, N, N, Y, N, N, Y, N],
    },
    Requirement { rule: "declaration.reference_missing", element: "ID", required: [N, N, N, N, N, Y, Y, N, N] },
    Requirement {
        rule: "declaration.previous_document_missing",
        element: "GoodsShipment/PreviousDocument",
        required: [N, N, Y, Y, Y, N, N, N, N],
    },
];

/// Whether `category` requires the element whose absence `rule` reports.
pub fn requires(category: Category, rule: &str) -> bool {
    REQUIREMENTS.iter().any(|r| r.rule == rule && r.required[category.column()])
}

/// The category a declaration was validated as, as the report gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCategory {
    /// The category whose requirements were applied.
    pub category: Category,
    /// The declaration's `TypeCode`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// In words: what the code means.
    pub description: String,
}

/// The category of a declaration with this `TypeCode`.
pub fn categorize(type_code: Option<&str>) -> AppliedCategory {
    let Some(code) = type_code else {
        return AppliedCategory {
            category: Category::Unspecified,
            type_code: None,
            description: "no TypeCode: the requirements of a standard declaration apply".into(),
        };
    };
    let known =
        |category, description: String| AppliedCategory { category, type_code: Some(code.to_owned()), description };
    if let Some((_, c, what)) = MESSAGE_TYPES.iter().find(|(m, _, _)| *m == code) {
        return known(*c, (*what).to_owned());
    }
    let mut chars = code.chars();
    let head: String = chars.by_ref().take(2).collect();
    let tail: Vec<char> = chars.collect();
    let decl = DECLARATION_TYPES.iter().find(|(t, _)| *t == head);
    let additional = match tail.as_slice() {
        [c] => ADDITIONAL_TYPES.iter().find(|(a, _, _)| a == c),
        _ => None,
    };
    match (decl, additional) {
        (Some((_, d)), Some((_, c, a))) => known(*c, format!("{d}: {a}")),
        _ => known(Category::Unknown, String::new()),
    }
}

/// Why a `TypeCode` is not a category, for the error message.
pub(crate) fn unknown_reason(code: &str) -> String {
    let head: String = code.chars().take(2).collect();
    let types: Vec<&str> = DECLARATION_TYPES.iter().map(|(t, _)| *t).collect();
    let additional: String = ADDITIONAL_TYPES.iter().map(|(c, _, _)| *c).collect();
    if !DECLARATION_TYPES.iter().any(|(t, _)| *t == head) {
        format!(
            "it does not start with a declaration type (DE 1/1: {}) and is not {}",
            types.join(", "),
            MESSAGE_TYPES.iter().map(|(m, _, _)| *m).collect::<Vec<_>>().join(" or ")
        )
    } else if code.chars().count() != 3 {
        format!(
            "the declaration type {head} must be followed by one additional declaration type letter (DE 1/2: {additional})"
        )
    } else {
        format!("its last letter is not an additional declaration type (DE 1/2: {additional})")
    }
}

/// The category table as Markdown (for `docs/validation-rules.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "## Declaration categories\n\n\
         The category comes from `TypeCode`: declaration type (DE 1/1) + additional declaration type (DE 1/2), \
         or a whole message code.\n\n| code | category | meaning |\n|---|---|---|\n",
    );
    for (t, what) in DECLARATION_TYPES {
        out.push_str(&format!("| `{t}` + DE 1/2 | | {what} |\n"));
    }
    for (c, cat, what) in ADDITIONAL_TYPES {
        out.push_str(&format!("| DE 1/1 + `{c}` | {} | {what} |\n", cat.name()));
    }
    for (m, cat, what) in MESSAGE_TYPES {
        out.push_str(&format!("| `{m}` | {} | {what} |\n", cat.name()));
    }
    out.push_str("| (none) | unspecified | the requirements of a standard declaration apply |\n");
    out.push_str("\n### Elements each category requires\n\n| rule | element |");
    let cols = &Category::ALL[..8];
    for c in cols {
        out.push_str(&format!(" {} |", c.name()));
    }
    out.push_str("\n|---|---|");
    for _ in cols {
        out.push_str("---|");
    }
    out.push('\n');
    for r in REQUIREMENTS {
        out.push_str(&format!("| `{}` | `{}` |", r.rule, r.element));
        for c in cols {
            out.push_str(if r.required[c.column()] { " required |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_codes_give_categories() {
        let c = |t: &str| categorize(Some(t)).category;
        assert_eq!(c("IMA"), Category::Standard);
        assert_eq!(c("IMD"), Category::PreLodged);
        assert_eq!(c("EXB"), Category::Simplified);
        assert_eq!(c("EXJ"), Category::Simplified);
        assert_eq!(c("EXK"), Category::PreLodgedSimplified);
        assert_eq!(c("COF"), Category::PreLodgedSimplified);
        assert_eq!(c("IMZ"), Category::Supplementary);
        assert_eq!(c("COR"), Category::Amendment);
        assert_eq!(c("INV"), Category::Invalidation);
        for bad in ["IMQ", "XXA", "IM", "IMAA", "", "ÉXA"] {
            assert_eq!(c(bad), Category::Unknown, "{bad}");
        }
        assert_eq!(categorize(None).category, Category::Unspecified);
    }

    #[test]
    fn simplified_declarations_need_no_commodity_code() {
        assert!(requires(Category::Standard, "hs.missing"));
        assert!(requires(Category::Supplementary, "hs.missing"));
        assert!(!requires(Category::Simplified, "hs.missing"));
        assert!(requires(Category::Simplified, "item.commodity_missing"));
        assert!(!requires(Category::Invalidation, "declaration.goods_shipment_missing"));
        assert!(requires(Category::Amendment, "declaration.reference_missing"));
    }

    #[test]
    fn every_requirement_rule_is_in_the_rule_table() {
        for r in REQUIREMENTS {
            assert!(crate::rulebook::rule(r.rule).is_some(), "{}", r.rule);
        }
    }
}
