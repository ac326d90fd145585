/* Journeykit back-in-stock widget. Embed:
 *   <div data-journeykit-restock data-sku="SKU" data-locale="en"></div>
 *   <script src="https://journeys.example/widget/restock.js" async></script>
 * Posts to /restock/signups with a signed form token; the consent wording shown is the
 * wording stored with the signup. */
(function () {
  "use strict";
  var CONFIG = __CONFIG__;
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) { node.setAttribute(k, attrs[k]); }
    if (text) { node.textContent = text; }
    return node;
  }
  function mount(root, n) {
    var locale = root.getAttribute("data-locale") || CONFIG.locale;
    var t = CONFIG.texts[locale] || CONFIG.texts.en;
    var id = "jk-restock-" + n;
    var form = el("form", { "class": "jk-restock", "novalidate": "" });
    form.appendChild(el("h2", {}, t.title));
    form.appendChild(el("label", { "for": id + "-email" }, t.email));
    form.appendChild(el("input", { id: id + "-email", name: "email", type: "email", autocomplete: "email" }));
    form.appendChild(el("label", { "for": id + "-phone" }, t.phone));
    form.appendChild(el("input", { id: id + "-phone", name: "phone", type: "tel", autocomplete: "tel" }));
    ["email", "sms"].forEach(function (channel) {
      var row = el("div", { "class": "check" });
      row.appendChild(el("input", { id: id + "-c-" + channel, type: "checkbox", name: "channels", value: channel }));
      row.appendChild(el("label", { "for": id + "-c-" + channel }, t["consent_" + channel]));
      form.appendChild(row);
    });
    var status = el("p", { role: "status", "aria-live": "polite", "class": "jk-status" });
    form.appendChild(el("button", { type: "submit" }, t.submit));
    form.appendChild(status);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new URLSearchParams();
      data.append("sku", root.getAttribute("data-sku") || "");
      data.append("locale", locale);
      data.append("form_token", CONFIG.token);
      data.append("email", form.elements.email.value);
      data.append("phone", form.elements.phone.value);
      form.querySelectorAll("input[name=channels]:checked").forEach(function (box) {
        data.append("channels", box.value);
      });
      fetch(CONFIG.endpoint, { method: "POST", body: data, headers: { "Accept": "application/json" } })
        .then(function (resp) {
          return resp.json().catch(function () { return {}; }).then(function (body) {
            status.textContent = resp.ok ? (body.message || t.done) : t.error;
          });
        })
        .catch(function () { status.textContent = t.error; });
    });
    root.appendChild(form);
  }
  var roots = document.querySelectorAll("[data-journeykit-restock]");
  for (var i = 0; i < roots.length; i++) { mount(roots[i], i); }
})();
