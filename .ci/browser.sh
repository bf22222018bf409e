# examples/: Debian's Chromium for the browser tests (TestBrowser in
# examples/*). Sourced by .ci/run. Installs only with CI=true or
# SESS_INSTALL=1 (apt_install decides); otherwise a missing browser makes
# those tests skip, and the test step lists them as skipped. With CI=true a
# missing browser fails them. Screenshots after login land in
# examples/artifacts/ (git-ignored).
if ! command -v chromium >/dev/null 2>&1; then
	log "chromium is not installed"
	apt_install chromium || true
fi
if [ "${CI:-}" = true ] && ! command -v chromium >/dev/null 2>&1; then
	echo "chromium is not installed" >&2
	exit 1
fi
