// The browser side of helpers.panels.view.SvgView: shows a scene's markup and applies patches.
// It knows nothing of attention: it sets attributes and texts of numbered elements.
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "svg-panel-view";
  root.style.maxWidth = "100%";
  el.appendChild(root);
  let nodes = [];
  const whole = () => {
    root.innerHTML = model.get("markup");
    nodes = [];
    for (const n of root.querySelectorAll("[data-i]")) nodes[+n.getAttribute("data-i")] = n;
  };
  const patch = (msg) => {
    // a patch for an older markup is dropped: the newer markup arrives (or arrived) whole
    if (!msg || msg.rev !== model.get("rev")) return;
    for (const [name, flat] of Object.entries(msg.a || {})) {
      for (let k = 0; k < flat.length; k += 2) {
        const n = nodes[flat[k]];
        if (n) n.setAttribute(name, flat[k + 1]);
      }
    }
    const t = msg.t || [];
    for (let k = 0; k < t.length; k += 2) {
      const n = nodes[t[k]];
      if (n) n.textContent = t[k + 1] ?? "";
    }
  };
  whole();
  model.on("change:markup", whole);
  model.on("msg:custom", patch);
  model.send({ want: "whole" });  // a view opened later asks for the current picture
  return () => {
    model.off("change:markup", whole);
    model.off("msg:custom", patch);
  };
}
export default { render };
