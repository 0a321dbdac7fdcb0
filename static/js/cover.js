// The cover tool: black boxes over an image, in the image's own pixels.
// Boxes OCR placed come from #cover-findings; the reader drags to add more
// and removes any with its × button. On submit the boxes go to the server,
// which burns them into a new image. Without this file the form still sends
// the boxes OCR placed (the hidden field is filled by the server).
(() => {
  const stage = document.querySelector(".cover-stage");
  const field = document.getElementById("cover-boxes");
  if (!stage || !field) return;
  const width = Number(stage.dataset.width);
  const height = Number(stage.dataset.height);
  const MIN_SIDE = 6; // image pixels
  const boxes = [];

  function place(element, box) {
    element.style.left = `${(box[0] / width) * 100}%`;
    element.style.top = `${(box[1] / height) * 100}%`;
    element.style.width = `${(box[2] / width) * 100}%`;
    element.style.height = `${(box[3] / height) * 100}%`;
  }

  function save() {
    field.value = JSON.stringify(boxes.map((entry) => entry.box.map(Math.round)));
  }

  function add(box) {
    const element = document.createElement("div");
    element.className = "cover-box";
    element.setAttribute("role", "img");
    element.setAttribute("aria-label", stage.dataset.boxLabel);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "cover-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", stage.dataset.removeLabel);
    const entry = { box, element };
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      boxes.splice(boxes.indexOf(entry), 1);
      element.remove();
      save();
    });
    remove.addEventListener("pointerdown", (event) => event.stopPropagation());
    element.append(remove);
    place(element, box);
    stage.append(element);
    boxes.push(entry);
    save();
    return entry;
  }

  function toImage(event) {
    const rect = stage.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * width;
    const y = ((event.clientY - rect.top) / rect.height) * height;
    return [Math.max(0, Math.min(width, x)), Math.max(0, Math.min(height, y))];
  }

  const findings = JSON.parse(document.getElementById("cover-findings").textContent || "[]");
  findings.forEach((finding) => add(finding.box.slice()));

  let start = null;
  let drawing = null;
  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    start = toImage(event);
    drawing = add([start[0], start[1], 0, 0]);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = toImage(event);
    drawing.box = [Math.min(x, start[0]), Math.min(y, start[1]), Math.abs(x - start[0]), Math.abs(y - start[1])];
    place(drawing.element, drawing.box);
  });
  function finish() {
    if (!drawing) return;
    if (drawing.box[2] < MIN_SIDE || drawing.box[3] < MIN_SIDE) {
      boxes.splice(boxes.indexOf(drawing), 1);
      drawing.element.remove();
    }
    drawing = null;
    save();
  }
  stage.addEventListener("pointerup", finish);
  stage.addEventListener("pointercancel", finish);
})();
