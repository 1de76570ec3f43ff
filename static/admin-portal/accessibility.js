// WCAG 2.2 AA fixes to widgets Django admin builds in the browser (no inline script: the
// Content-Security-Policy forbids it). Runs after admin's own scripts have built them: as a
// jQuery ready handler registered after theirs (this file is deferred), or on load.
function portalAccessibilityFixes() {
  // Autocomplete boxes (select2) are named by their field's label, not only the chosen value.
  document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
    var label = document.querySelector('label[for="' + select.id + '"]');
    var box = select.parentElement.querySelector(".select2-selection[role=combobox]");
    if (!label || !box) return;
    label.id = label.id || select.id + "-label";
    var named = (box.getAttribute("aria-labelledby") || "").split(" ");
    if (named.indexOf(label.id) === -1) {
      box.setAttribute("aria-labelledby", [label.id].concat(named).join(" ").trim());
    }
    // The chosen value inside the box is a read-only textbox: named by the label and itself.
    var rendered = box.querySelector(".select2-selection__rendered[role=textbox]");
    if (rendered && rendered.id) {
      rendered.setAttribute("aria-labelledby", label.id + " " + rendered.id);
    }
  });
  // The two-box selector's search icons carry an aria-label, which needs a role to be allowed.
  document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
    icon.setAttribute("role", "img");
  });
}

// Mark the page once both have run (tests/test_accessibility.py waits for it).
var portalFixRuns = 0;
function portalFixAndMark() {
  portalAccessibilityFixes();
  portalFixRuns += 1;
  if (portalFixRuns === 2) document.documentElement.setAttribute("data-accessibility-fixed", "");
}
// select2 boxes are built in jQuery's ready handlers, the two-box selector on load.
if (window.django && window.django.jQuery) {
  window.django.jQuery(portalFixAndMark);
} else {
  portalFixRuns += 1;
}
window.addEventListener("load", portalFixAndMark);
