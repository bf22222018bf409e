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
    const err = new Error(body.error || resp.status + " " + resp.statusText);
    err.status = resp.status;
    throw err;
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
// Every value from the server goes into the page as text (textContent),
// never as HTML.
function when(t) {
  return t ? new Date(t).toLocaleString() : "unknown";
}
function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}
function hideSessions() {
  $("sessions").hidden = true;
  $("session-list").replaceChildren();
  $("session-count").textContent = "0";
}
async function loadSessions() {
  let body;
  try {
    body = await call("GET", "/sessions");
  } catch (err) {
    hideSessions();
    if (err.status === 401) {
      $("user").textContent = "";
    }
    throw err;
  }
  $("this-persistent").textContent = body.this.persistent ? "yes" : "no";
  $("this-idle").textContent = when(body.this.idle);
  $("this-absolute").textContent = when(body.this.absolute);
  $("this-cookie").textContent = body.this.cookie ? when(body.this.cookie) : "when the browser closes";
  const rows = body.sessions.map((s) => {
    const row = document.createElement("tr");
    row.dataset.handle = s.handle;
    cell(row, s.user_agent || "unknown browser");
    cell(row, when(s.signed_in));
    cell(row, when(s.last_seen));
    cell(row, s.persistent ? "yes" : "no");
    const last = cell(row, "");
    if (s.current) {
      row.className = "current";
      last.textContent = "this device";
    } else {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "revoke";
      button.textContent = "Log out";
      button.addEventListener("click", run(async () => {
        await call("POST", "/sessions/revoke?handle=" + encodeURIComponent(s.handle));
        await loadSessions();
      }));
      last.appendChild(button);
    }
    return row;
  });
  $("session-list").replaceChildren(...rows);
  $("session-count").textContent = String(rows.length);
  $("sessions").hidden = false;
}
$("inc").addEventListener("click", run(async () => {
  const body = await call("GET", "/session_test");
  $("counter").textContent = String(body.test_counter);
}));
$("login").addEventListener("click", run(async () => {
  const remember = $("remember").checked ? "&remember=1" : "";
  const body = await call("POST", "/login?user=" + encodeURIComponent($("name").value) + remember);
  $("user").textContent = body.user;
  await loadSessions();
}));
$("logout").addEventListener("click", run(async () => {
  await call("POST", "/logout");
  $("user").textContent = "";
  $("counter").textContent = "0";
  hideSessions();
}));
$("revoke-others").addEventListener("click", run(async () => {
  await call("POST", "/sessions/revoke-others");
  await loadSessions();
}));
$("refresh").addEventListener("click", run(loadSessions));
if ($("user").textContent !== "") {
  run(loadSessions)();
}
`

const pageStyle = `
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
output { font-weight: bold; }
#user:empty::before { content: "nobody"; font-weight: normal; font-style: italic; }
#status { color: #b00020; min-height: 1.5em; }
button, input { font: inherit; }
fieldset { margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.2rem 0.4rem; border-bottom: 1px solid #ddd; }
th, td:last-child { white-space: nowrap; }
td:first-child { overflow-wrap: break-word; width: 40%; }
tr.current td:last-child { font-weight: bold; }
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
<label><input id="remember" type="checkbox"> remember me</label>
<button id="login" type="button">Log in</button>
<button id="logout" type="button">Log out</button>
</fieldset>
<p id="status" role="status"></p>
<section id="sessions" hidden>
<h2>Your sessions (<span id="session-count">0</span>)</h2>
<p>This session: persistent (remember me) <output id="this-persistent"></output>;
ends after inactivity at <output id="this-idle"></output>,
at the latest at <output id="this-absolute"></output>;
its cookie expires <output id="this-cookie"></output>.</p>
<table>
<thead><tr><th>Browser</th><th>Signed in</th><th>Last seen</th><th>Remembered</th><th></th></tr></thead>
<tbody id="session-list"></tbody>
</table>
<p><button id="revoke-others" type="button">Log out everywhere else</button>
<button id="refresh" type="button">Refresh</button></p>
</section>
<p>The session cookie is HttpOnly: <code>document.cookie</code> cannot see it.
Logging in gives the session a new ID; logging out destroys it. Without
"remember me" the cookie lasts until the browser closes; with it, it has a
Max-Age. Log in as the same user in another browser to see two sessions.</p>
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
