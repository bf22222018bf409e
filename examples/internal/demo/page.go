package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
)

// The page's script and style live in constants so that their hashes can
// go into the Content-Security-Policy: no other script or style runs.
const pageScript = `
"use strict";
const $ = (id) => document.getElementById(id);
async function call(method, url) {
  const resp = await fetch(url, {method, headers: {"Accept": "application/json"}});
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    throw new Error(body.error || resp.status + " " + resp.statusText);
  }
  return body;
}
function run(action) {
  return async () => {
    $("status").textContent = "";
    try {
      await action();
    } catch (err) {
      $("status").textContent = err.message;
    }
  };
}
$("inc").addEventListener("click", run(async () => {
  const body = await call("GET", "/session_test");
  $("counter").textContent = String(body.test_counter);
}));
$("login").addEventListener("click", run(async () => {
  const body = await call("POST", "/login?user=" + encodeURIComponent($("name").value));
  $("user").textContent = body.user;
}));
$("logout").addEventListener("click", run(async () => {
  await call("POST", "/logout");
  $("user").textContent = "";
  $("counter").textContent = "0";
}));
`

const pageStyle = `
body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
output { font-weight: bold; }
#user:empty::before { content: "nobody"; font-weight: normal; font-style: italic; }
#status { color: #b00020; min-height: 1.5em; }
button, input { font: inherit; }
fieldset { margin: 1rem 0; }
`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ContentSecurityPolicy is the Content-Security-Policy header value for the
// page: only the page's own script and style run, and fetch() reaches only
// the page's origin.
var ContentSecurityPolicy = "default-src 'none'; script-src " + cspHash(pageScript) +
	"; style-src " + cspHash(pageStyle) +
	"; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// PageContentType is the Content-Type of the page.
const PageContentType = "text/html; charset=utf-8"

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>sess demo ({{.Framework}})</title>
<style>{{.Style}}</style>
</head>
<body>
<h1>sess demo <small>({{.Framework}})</small></h1>
<p>Counter: <output id="counter">{{.Counter}}</output>
<button id="inc" type="button">Increment</button></p>
<p>Logged in as: <output id="user">{{.User}}</output></p>
<fieldset>
<legend>Log in</legend>
<input id="name" placeholder="name" maxlength="{{.MaxUserLen}}" autocomplete="username">
<button id="login" type="button">Log in</button>
<button id="logout" type="button">Log out</button>
</fieldset>
<p id="status" role="status"></p>
<p>The session cookie is HttpOnly: <code>document.cookie</code> cannot see it.
Logging in gives the session a new ID; logging out destroys it.</p>
<script>{{.Script}}</script>
</body>
</html>
`))

// Page renders the demo page for the named framework, showing the session's
// counter and user ("" for nobody). Serve it with PageContentType and the
// ContentSecurityPolicy header. The user name is escaped for HTML.
func Page(framework string, counter int, user string) []byte {
	var b bytes.Buffer
	err := pageTemplate.Execute(&b, struct {
		Framework  string
		Counter    int
		User       string
		MaxUserLen int
		Script     template.JS
		Style      template.CSS
	}{framework, counter, user, MaxUserLen, template.JS(pageScript), template.CSS(pageStyle)})
	if err != nil {
		// Only a broken template fails, and the tests render it.
		panic("demo: rendering the page: " + err.Error())
	}
	return b.Bytes()
}
