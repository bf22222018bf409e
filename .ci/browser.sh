# examples/: Debian's Chromium for the browser tests (TestBrowser in
# examples/{nethttp,gin,echo,fiber}). Idempotent. With CI=true a missing
# browser fails those tests instead of skipping them. Screenshots after
# login land in examples/artifacts/ (git-ignored): login.png (net/http),
# login-gin.png, login-echo.png, login-fiber.png.
if ! command -v chromium >/dev/null 2>&1; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "chromium is not installed" >&2; exit 1; }
