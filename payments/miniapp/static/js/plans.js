// Placeholder: the plans screen comes in the next commit.
import { h } from "./ui.js";

export function mount(root, app) {
  root.append(h("h1", { text: app.t("app-nav-plans") }));
  return () => {};
}
