// audit.html's behaviour, inlined into the page: sort any table.sortable by a header click, and
// filter the findings table by priority, rule, service and free text. Plain DOM, no library.
(function () {
  "use strict";

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var key = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var number = Number(key);
    return key !== "" && !isNaN(number) ? number : key.toLowerCase();
  }

  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;  // numbers before text
  }

  function sortBy(table, th) {
    var index = th.cellIndex;
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, position) { row.position = position; });
    rows.sort(function (a, b) {
      var order = compare(cellKey(a, index), cellKey(b, index)) || a.position - b.position;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, th); });
    });
  }

  function filterFindings() {
    var table = document.getElementById("findings-table");
    if (!table) { return; }
    var wanted = {};
    document.querySelectorAll("[data-filter]").forEach(function (select) {
      wanted[select.getAttribute("data-filter")] = select.value;
    });
    var text = document.getElementById("finding-text").value.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var match = Object.keys(wanted).every(function (key) {
        return !wanted[key] || row.getAttribute("data-" + key) === wanted[key];
      }) && (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
      row.hidden = !match;
      shown += match ? 1 : 0;
    });
    document.getElementById("finding-count").textContent =
      shown + " of " + table.tBodies[0].rows.length + " findings shown";
    document.getElementById("finding-none").hidden = shown !== 0;
  }

  document.querySelectorAll("table.sortable").forEach(makeSortable);
  document.querySelectorAll("[data-filter]").forEach(function (select) {
    select.addEventListener("change", filterFindings);
  });
  var text = document.getElementById("finding-text");
  if (text) {
    text.addEventListener("input", filterFindings);
    filterFindings();
  }
}());
