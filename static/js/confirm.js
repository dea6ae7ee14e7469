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
      // Until then the form is pending, and a live push leaves its panel alone (static/js/
      // live.js): a push that came in while the dialog was open would otherwise replace the form
      // and the agreed submission with it. Once sent, htmx marks the request itself.
      form.dataset.pending = "confirmed";
      const submitter = event.submitter;
      setTimeout(() => {
        try {
          if (submitter) form.requestSubmit(submitter);
          else form.requestSubmit();
        } finally {
          delete form.dataset.pending;
        }
      });
    },
    true,
  );
})();
