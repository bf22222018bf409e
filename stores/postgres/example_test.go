package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	pgstore "github.com/gosess/sess/stores/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every instance of the application runs this: same secret, same
// database, same table. A cookie issued by one instance works on all of
// them. (This example needs a PostgreSQL server, so it is compiled but not
// run.)
func Example() {
	ctx := context.Background()
	// One pool per process, shared by all requests. The store never
	// closes it.
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	st, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // stops the background sweep
	// Explicit and idempotent: safe on every start of every instance.
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	m, err := sess.New(sess.Config{
		// At least 32 random bytes, identical on every instance.
		Secret: []byte(os.Getenv("SESSION_SECRET")),
		Store:  st,
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visits: %d\n", n+1)
	})
	log.Fatal(http.ListenAndServe(":8080", sesshttp.Middleware(m)(mux)))
}

// A table of its own in a schema of its own, a sweep every minute, and no
// Migrate at run time: the schema is applied by the team's migration tool
// from MigrateSQL.
func ExampleNew() {
	// Neither pgxpool.New nor pgstore.New connects: this runs without a
	// database.
	pool, err := pgxpool.New(context.Background(), "postgres://app@db.internal/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	st, err := pgstore.New(pool, pgstore.Config{
		Table:         "auth.web_sessions",
		SweepInterval: time.Minute,
		SweepBatch:    500,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Println(st.Table())
	// Output: auth.web_sessions
}
