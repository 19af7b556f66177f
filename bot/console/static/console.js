/* Shared by every console page: the CSRF token for fetch() calls. */
"use strict";
window.consoleCsrf = function () {
  var m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.getAttribute("content") : "";
};
