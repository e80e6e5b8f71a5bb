// Every page (no inline scripts: CSP). The user menu closes with Escape; each table cell knows
// its column's name, shown above it when a phone stacks the rows (twofold.css); copy buttons.
(() => {
  "use strict";

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = document.querySelector("details.usermenu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  for (const table of document.querySelectorAll("main table")) {
    const names = [...table.querySelectorAll("thead th")].map((th) =>
      th.querySelector(".visually-hidden") ? "" : th.textContent.trim()
    );
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.cells].forEach((cell, index) => {
        if (names[index] && cell.colSpan === 1) cell.dataset.label = names[index];
      });
    }
  }

  // <button data-copy="ID" hidden>: copies the text of #ID (its data-copy-value when it has
  // one) and says so in the button's status (aria-live). Without a script, the text stays
  // selectable and the button hidden.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = source.dataset.copyValue || source.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        if (status) status.textContent = button.dataset.copied || "Copied";
      } catch (error) {
        if (status) status.textContent = button.dataset.copyFailed || "Select the text to copy it";
      }
    });
  }
})();
