// Small enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Switch language as soon as another one is picked; the button stays for keyboards without JS.
  const switcher = document.querySelector(".language-switcher");
  if (switcher) {
    const select = switcher.querySelector("select");
    select.addEventListener("change", () => switcher.submit());
  }
});
