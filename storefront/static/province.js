// An address form's state or province field suggests the subdivisions of
// the country chosen (address.go). The page comes with the suggestions
// of the country it shows; when the buyer picks another, this reads the
// new country's from /subdivisions/{country} (cached by the browser) and
// puts them in the field's datalist, in the page's language; a country
// without subdivisions suggests nothing. What the buyer typed stays: the
// field is free text. Without JavaScript the suggestions stay those of
// the country the page was drawn with.
(function () {
  "use strict";
  var select = document.getElementById("f-countryCode");
  var input = document.getElementById("f-province");
  var list = document.getElementById("f-province-list");
  if (!select || !input || !list || !window.fetch) return;
  var lang = document.documentElement.lang;

  // suggest puts names, the suggestions of country, in the datalist,
  // which says whose they are in data-country ("" while loading).
  function suggest(country, names) {
    var options = document.createDocumentFragment();
    names.forEach(function (s) {
      var o = document.createElement("option");
      o.value = s.name;
      options.appendChild(o);
    });
    list.replaceChildren(options);
    if (names.length) input.setAttribute("list", list.id);
    else input.removeAttribute("list");
    list.dataset.country = country;
  }

  select.addEventListener("change", function () {
    var country = select.value;
    suggest("", []); // none of the old country's while the new ones load
    fetch("/subdivisions/" + encodeURIComponent(country) + "?lang=" + encodeURIComponent(lang))
      .then(function (res) { return res.ok ? res.json() : []; })
      .then(function (names) {
        // Only the answer for the country still chosen: the buyer may
        // have moved on while it loaded.
        if (select.value === country) suggest(country, names);
      })
      .catch(function () {});
  });
})();
