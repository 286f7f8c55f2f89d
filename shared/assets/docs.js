// Starts Redoc on the partner API's document. The page's Content-Security-Policy allows styles
// only with the nonce it sends in <meta name="hub-style-nonce">; Redoc puts it on the styles it
// writes at run time.
(function () {
  var nonce = document.querySelector('meta[name="hub-style-nonce"]').getAttribute('content');
  var reference = document.getElementById('reference');

  // Redoc names a menu entry by its summary alone while it shows a badge ("Event", "get") too;
  // a voice user says what they see, so the entry's name is what it shows (WCAG 2.5.3).
  function nameAsShown() {
    reference.querySelectorAll('[role="menuitem"][aria-label]').forEach(function (item) {
      var shown = item.textContent.replace(/\s+/g, ' ').trim();
      if (shown && item.getAttribute('aria-label') !== shown) item.setAttribute('aria-label', shown);
    });
  }
  new MutationObserver(nameAsShown).observe(reference, { childList: true, subtree: true });

  Redoc.init('openapi.json', {
    nonce: nonce,
    expandResponses: '200,201,202',
    jsonSampleExpandLevel: 3,
    hideHostname: true,
    theme: { colors: { primary: { main: '#1f4fa3' } } }
  }, reference);
})();
