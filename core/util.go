package sess

import (
	"cmp"
	"log/slog"
	"slices"
)

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func attrErr(err error) slog.Attr { return slog.Any("error", err) }
