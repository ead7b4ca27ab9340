// sqlitedemo: an in-memory SQLite database through github.com/mattn/go-sqlite3,
// whose C amalgamation the go command fetches and cgo compiles for the target.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"
)

var version = "dev"

func run() error {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2), (3), (36)`); err != nil {
		return err
	}
	var sqlite string
	var count, sum int
	if err := db.QueryRow(`SELECT sqlite_version(), count(*), sum(n) FROM t`).Scan(&sqlite, &count, &sum); err != nil {
		return err
	}
	fmt.Printf("sqlitedemo %s: sqlite %s, %d rows, sum %d\n", version, sqlite, count, sum)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sqlitedemo:", err)
		os.Exit(1)
	}
}
