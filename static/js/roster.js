// The roster: on a phone the week scrolls sideways in its frame; start with today in view.
const frame = document.querySelector(".roster-wrap");
const today = frame && frame.querySelector("th.is-today");
if (frame && today && frame.scrollWidth > frame.clientWidth) {
  const sticky = frame.querySelector("thead th:first-child");
  frame.scrollLeft = today.offsetLeft - (sticky ? sticky.offsetWidth : 0);
}
