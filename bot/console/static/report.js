/* A campaign's report fills in while it is sent: its figures are fetched every few seconds. */
"use strict";
(function () {
  var report = document.getElementById("report");
  if (!report) return;
  var url = report.getAttribute("data-progress-url");
  function field(name) { return report.querySelector('[data-field="' + name + '"]'); }
  function bar(percent) { field("bar").style.width = Math.max(0, Math.min(100, percent)) + "%"; }
  bar(Number(field("bar").getAttribute("data-percent")) || 0);
  function update(r) {
    ["sent", "failed", "pending", "percent", "total_taps", "started", "finished"].forEach(function (k) {
      field(k).textContent = r[k];
    });
    var st = field("status");
    st.textContent = r.status;
    st.className = "status " + r.status;
    bar(r.percent);
    var err = field("last_error");
    err.textContent = r.last_error || "";
    err.hidden = !r.last_error;
    var body = field("taps").querySelector("tbody");
    body.textContent = "";
    r.taps.forEach(function (t) {
      var tr = document.createElement("tr");
      var a = document.createElement("td"); a.textContent = t.label;
      var b = document.createElement("td"); b.className = "num"; b.textContent = t.taps;
      tr.appendChild(a); tr.appendChild(b); body.appendChild(tr);
    });
    return r.status;
  }
  function poll() {
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (r) {
      update(r);
      setTimeout(poll, r.status === "done" || r.status === "cancelled" ? 15000 : 2000);
    }).catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2000);
})();
