// An address form's state or province field suggests the subdivisions of
// the country chosen (address.go). The page comes with the suggestions
// of the country it shows; when the buyer picks another, this reads the
// new country's from /subdivisions/{country} (cached by the browser) and
// puts them in the field's datalist, in the page's language; a country
// without subdivisions suggests nothing. A province picked from the old
// country's suggestions is cleared when the new country has no such
// subdivision; what the buyer typed themselves stays: the field is free
// text. Without JavaScript the suggestions stay those of
// the country the page was drawn with.
(function () {
  "use strict";
  var select = document.getElementById("f-countryCode");
  var input = document.getElementById("f-province");
  var list = document.getElementById("f-province-list");
  if (!select || !input || !list || !window.fetch) return;
  var lang = document.documentElement.lang;
  // shown are the names last suggested for a country, the page's first:
  // a province picked from them belongs to that country and is cleared
  // when the buyer moves to a country without it, as a province select
  // would be. What the buyer typed themselves stays.
  var shown = Array.prototype.map.call(list.options, function (o) { return o.value; });

  function listed(names, value) {
    var v = value.trim().toLowerCase();
    return v !== "" && names.some(function (n) { return n.toLowerCase() === v; });
  }

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
        if (select.value !== country) return;
        var next = names.map(function (s) { return s.name; });
        if (listed(shown, input.value) && !listed(next, input.value)) input.value = "";
        shown = next;
        suggest(country, names);
      })
      .catch(function () {});
  });
})();
