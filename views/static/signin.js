// On a page refused for want of the API token (when reads need it): use the token this browser
// keeps, or ask for it once, then load the page again with it as ?access_token=. Links between
// pages carry no token, so each one passes here once and goes on without asking again.
'use strict';
(async function () {
  const auth = window.PIR.auth;
  const presented = new URL(location.href).searchParams.get('access_token');
  // The kept token was just refused: forget it, so that the user is asked for the right one.
  if (presented && presented === auth.token()) auth.setToken('');
  if (!auth.token() && !(await auth.askToken())) return;
  location.replace(auth.withToken(location.href));
})();
