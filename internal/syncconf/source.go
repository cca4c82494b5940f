package syncconf

import (
	"context"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// ClientSource is the DryRunSource of a connected org: it runs the dry
// run's queries through the Salesforce REST client, in pages of 2,000.
type ClientSource struct {
	Client *salesforce.Client
}

// Count runs a COUNT() query (one API call).
func (s ClientSource) Count(ctx context.Context, soql string) (int, error) {
	return s.Client.Count(ctx, soql)
}

// Query streams the records of a query, one API call per page.
func (s ClientSource) Query(ctx context.Context, soql string, each func(map[string]any) error) error {
	it := s.Client.Query(ctx, soql, salesforce.QueryOptions{BatchSize: queryPageSize})
	for it.Next() {
		if err := each(it.Record()); err != nil {
			return err
		}
	}
	return it.Err()
}
