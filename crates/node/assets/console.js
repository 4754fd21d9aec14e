// Borderlink console: small conveniences over pages that work without script.
// - shows the chosen file's name and size, and that it takes precedence over the text area;
// - a Clear button that empties both the text area and the file input;
// - Ctrl+Enter (Cmd+Enter) in the text area submits the form;
// - once a report is shown, scrolls it into view.

const form = document.getElementById("validate-form");

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

if (form) {
  const text = form.querySelector("#text");
  const file = form.querySelector("#document");
  const info = form.querySelector("#document-info");
  const clear = form.querySelector("#clear");

  const describeFile = () => {
    const chosen = file.files && file.files[0];
    info.textContent = chosen
      ? `${chosen.name}, ${formatBytes(chosen.size)}: this file will be validated, not the text above.`
      : "";
  };
  file.addEventListener("change", describeFile);

  clear.hidden = false;
  clear.addEventListener("click", () => {
    text.value = "";
    file.value = "";
    describeFile();
    text.focus();
  });

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

const report = document.getElementById("report");
if (report) {
  report.scrollIntoView({ block: "start" });
}

// Dates: the server writes every date as <time datetime="ISO" title="ISO">… UTC</time>; here the
// text becomes the reader's own time zone, in their locale's form, with the zone named. The ISO
// value stays in the title (on hover), so the exact UTC instant is never lost.
const localTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});
for (const el of document.querySelectorAll("time[datetime]")) {
  const iso = el.getAttribute("datetime");
  // Only full instants (date and time): a bare date has no time zone to convert.
  if (!iso.includes("T")) continue;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) continue;
  el.textContent = localTime.format(at);
  el.title = iso;
}
