package conformance_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gosess/sess/conformance"
)

func ExampleRoundTripHandler() {
	// app stands in for a framework that answers requests without serving
	// net/http, such as fiber with app.Test.
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "hello")
	})
	h := conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, r)
		return rec.Result(), nil
	})

	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Values("Set-Cookie"), string(body))
	// Output: 201 [a=1 b=2] hello
}
