// Starts GOV.UK Frontend's components. The module's address comes from the page (it is the
// static-files URL, hashed in production), so this file needs no build step.
const { initAll } = await import(document.body.dataset.govukFrontend);
initAll();
