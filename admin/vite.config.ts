import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The admin is served under /admin/ by the kassa binary; `npm run dev`
// proxies the API to a kassa serve on 127.0.0.1:8080.
export default defineConfig({
  base: "/admin/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Everything as files, nothing inlined as data: URLs or inline
    // scripts, so the strict Content-Security-Policy holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: {
      "/graphql": "http://127.0.0.1:8080",
      "/admin/export": "http://127.0.0.1:8080",
    },
  },
});
