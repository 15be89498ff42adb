// Starts GraphiQL on the page. A file rather than an inline script, so the
// page's Content-Security-Policy needs no 'unsafe-inline'; the endpoint
// comes from the page's data-endpoint attribute.
(function () {
  const root = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint, headers: { "X-Kassa-CSRF": "1" } });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true,
      defaultQuery: "# Welcome to Kassa's GraphQL API.\n{\n  products(first: 5) {\n    edges { node { title handle } }\n  }\n}\n" }));
})();
