// Destructive actions ask first. A form marked data-confirm="<what will happen>" asks in a
// dialog and, once the person agrees, is sent with confirmed=yes. Without JavaScript the form is
// sent as it is, and the server answers with the same question and a button that confirms.
"use strict";

(() => {
  const agreed = new WeakSet();

  // Capture, on the document: the question comes before htmx (which listens on the form) sees
  // the submission at all.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
      if (agreed.has(form)) {
        agreed.delete(form);
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      // A question may name what the form's fields hold: "{hostname}" is the chosen hostname.
      const question = form.dataset.confirm.replace(/\{(\w+)\}/g, (whole, name) => {
        const field = form.elements.namedItem(name);
        return field && "value" in field ? field.value : whole;
      });
      if (!window.confirm(question)) return;
      let confirmed = form.querySelector('input[name="confirmed"]');
      if (!confirmed) {
        confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        form.append(confirmed);
      }
      confirmed.value = "yes";
      agreed.add(form);
      // Later: a form refuses to be submitted again while its submit event is being dispatched.
      const submitter = event.submitter;
      setTimeout(() => (submitter ? form.requestSubmit(submitter) : form.requestSubmit()));
    },
    true,
  );
})();
