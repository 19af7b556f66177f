/* The composer's live check and the LINE-like preview (also used by the confirmation step and
   the report). Builds DOM nodes with textContent only: nothing typed is ever parsed as HTML. */
"use strict";
(function () {
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  var SIZES = ["xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl"];
  var COLOR = /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/;

  function flexNode(node) {
    if (!node || typeof node !== "object") return el("div");
    var e;
    switch (node.type) {
      case "carousel":
        e = el("div", "carousel");
        (node.contents || []).forEach(function (b) { e.appendChild(flexNode(b)); });
        return e;
      case "bubble":
        e = el("div", "flex");
        ["header", "hero", "body", "footer"].forEach(function (part) {
          if (!node[part]) return;
          var p = el("div", "part " + part);
          p.appendChild(flexNode(node[part]));
          e.appendChild(p);
        });
        return e;
      case "box":
        e = el("div", "box " + (node.layout || "vertical"));
        if (node.backgroundColor && COLOR.test(node.backgroundColor)) e.style.backgroundColor = node.backgroundColor;
        (node.contents || []).forEach(function (c) { e.appendChild(flexNode(c)); });
        return e;
      case "text":
        var t = node.text || (node.contents || []).map(function (s) { return s.text || ""; }).join("");
        e = el("div", "text", t);
        if (node.weight === "bold") e.classList.add("bold");
        if (SIZES.indexOf(node.size) >= 0) e.classList.add("sz-" + node.size);
        if (node.color && COLOR.test(node.color)) e.style.color = node.color;
        if (node.align) e.style.textAlign = node.align === "end" ? "right" : node.align === "center" ? "center" : "left";
        if (node.flex !== undefined) e.style.flex = String(Number(node.flex) || 0);
        return e;
      case "button":
        e = el("div", "btn " + (node.style || "link"), (node.action && node.action.label) || "");
        return e;
      case "image":
        return el("div", "img", "image: " + (node.url || ""));
      case "separator":
        return el("div", "sep");
      case "icon":
        return el("span", "", "•");
      default:
        return el("div");
    }
  }

  function render(target, messages) {
    if (!target) return;
    target.textContent = "";
    (messages || []).forEach(function (m) {
      var row = el("div", "row");
      row.appendChild(el("div", "avatar", "บอท"));
      if (m.type === "text") row.appendChild(el("div", "bubble", m.text));
      else if (m.type === "flex") row.appendChild(flexNode(m.contents));
      else row.appendChild(el("div", "bubble", "[" + m.type + "]"));
      target.appendChild(row);
      var items = (m.quickReply && m.quickReply.items) || [];
      if (items.length) {
        var q = el("div", "quick");
        items.forEach(function (i) { q.appendChild(el("span", "", (i.action && i.action.label) || "")); });
        target.appendChild(q);
      }
    });
  }
  window.renderLineMessages = render;

  var data = document.getElementById("preview-data");
  if (data) {
    var parsed = JSON.parse(data.textContent);
    render(document.getElementById("preview"), parsed.messages);
    render(document.getElementById("preview-en"), parsed.messages_en);
  }

  var form = document.getElementById("composer");
  if (!form) return;
  var audience = form.querySelector("#audience");
  function toggleAudience() {
    form.querySelector("#district").hidden = audience.value !== "district";
    form.querySelector("#action").hidden = audience.value !== "action";
  }
  var timer = null, seq = 0, touched = false;
  function check() {
    var fields = {};
    new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") fields[k] = v; });
    var mine = ++seq;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.consoleCsrf()},
      body: JSON.stringify(fields)
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (mine !== seq) return;  // an older answer arriving late
      var box = document.getElementById("live-errors");
      box.textContent = "";
      box.hidden = !res.errors.length || !touched;  // no complaints before anything was typed
      res.errors.forEach(function (e) { box.appendChild(el("p", "", e)); });
      document.getElementById("audience-count").textContent = res.recipients === null ? "…" : res.recipients;
      if (!res.errors.length) {
        render(document.getElementById("preview"), res.messages);
        var en = document.getElementById("preview-en");
        en.hidden = document.getElementById("preview-en-title").hidden = !res.messages_en;
        render(en, res.messages_en || []);
      }
      form.setAttribute("data-checked", String(mine));
    }).catch(function () {});
  }
  function soon() { touched = true; clearTimeout(timer); timer = setTimeout(check, 350); }
  form.addEventListener("input", soon);
  form.addEventListener("change", function () { toggleAudience(); soon(); });
  toggleAudience();
  check();
})();
