// A stand-in for a bundler's output: a versioned (content-hashed) asset, served immutable.
const api = document.querySelector("meta[name=api-prefix]")?.content ?? "/api";
fetch(`${api}/items`).then((r) => r.json()).then((body) => {
  document.getElementById("app").textContent = body.data.items.map((i) => i.name).join(", ");
});
