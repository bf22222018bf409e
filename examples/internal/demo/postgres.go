package demo

import (
	"context"
	"fmt"
	"time"

	sess "github.com/gosess/sess/core"
	pgstore "github.com/gosess/sess/stores/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newPostgresStore connects to the PostgreSQL database at dsn, creates the
// session table if needed (pgstore's Migrate; table "" is pgstore's
// default) and returns a session store on it and a function that stops
// the store's sweeper and closes the pool. It fails fast, with a clear
// error, when the database does not answer.
func newPostgresStore(ctx context.Context, dsn, table string) (sess.Store, func() error, error) {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	pool, err := pgxpool.New(pctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: postgres DSN: %w", err)
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("demo: postgres at %s does not answer: %w", pool.Config().ConnConfig.Host, err)
	}
	st, err := pgstore.New(pool, pgstore.Config{Table: table})
	if err == nil {
		err = st.Migrate(pctx)
		if err != nil {
			_ = st.Close()
		}
	}
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("demo: postgres session table: %w", err)
	}
	return st, func() error {
		err := st.Close()
		pool.Close()
		return err
	}, nil
}
