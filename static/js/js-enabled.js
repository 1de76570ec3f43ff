// Runs at the top of <body> (a classic script, so before the page is drawn): GOV.UK Frontend's
// components style themselves by these classes. Kept in a file so that the Content-Security-Policy
// can forbid inline script.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
