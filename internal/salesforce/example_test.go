package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sfsync/sfsync/internal/salesforce"
)

// The connection layer's use of the package: authorize, check the org,
// then build a Client from the stored token whose refreshes are persisted.
func Example_connect() {
	ctx := context.Background()
	oauth, err := salesforce.NewOAuth(salesforce.OAuthConfig{
		LoginURL:     salesforce.LoginSandbox, // or LoginProduction, or a My Domain URL
		ClientID:     "3MVG9...",
		ClientSecret: "...",
		RedirectURL:  "https://sfsync.example.com/integrations/salesforce/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	// 1. Redirect the admin; keep state and verifier in their session.
	state, verifier := "random-state", salesforce.NewVerifier()
	fmt.Println(oauth.AuthCodeURL(state, verifier) != "")

	// 2. On the callback (after checking state):
	tok, err := oauth.Exchange(ctx, "code-from-callback", verifier)
	if err != nil {
		return // *salesforce.APIError, e.g. invalid_grant
	}
	// 3. Build the connection's Client; persist refreshed tokens.
	ts := oauth.TokenSource(tok, func(ctx context.Context, nt salesforce.Token) {
		_ = nt // store nt.AccessToken and nt.RefreshToken (may be rotated), encrypted
	})
	c, err := salesforce.New(salesforce.Options{InstanceURL: tok.InstanceURL, Tokens: ts})
	if err != nil {
		log.Fatal(err)
	}
	// 4. Connect-time checks (SPEC S2, S5).
	if err := c.CheckAPIAccess(ctx); errors.Is(err, salesforce.ErrAPIDisabled) {
		fmt.Println(salesforce.APIDisabledMessage)
		return
	}
	if admin, err := c.IsAdmin(ctx); err == nil && !admin {
		_ = oauth.Revoke(ctx, tok.RefreshToken)
		return
	}
	id, _ := c.Identity(ctx, tok.IdentityURL)
	_ = id.Username
}

// Reading records page by page and handling the error kinds.
func ExampleClient_Query() {
	var c *salesforce.Client // from salesforce.New
	ctx := context.Background()
	soql := "SELECT Id, Email FROM Contact WHERE Email = " + salesforce.QuoteString("o'brien@example.com")
	it := c.Query(ctx, soql, salesforce.QueryOptions{BatchSize: 2000})
	for it.Next() {
		_ = it.Record()["Email"]
	}
	var budget *salesforce.BudgetError
	var limit *salesforce.LimitError
	switch err := it.Err(); {
	case err == nil:
	case errors.As(err, &budget):
		// pause the run until budget.Until (SPEC X4)
	case errors.As(err, &limit):
		// the org is out of API calls: pause
	case errors.Is(err, salesforce.ErrRefreshRevoked):
		// mark the connection broken: Reconnect (SPEC X5)
	case salesforce.Retryable(err):
		// try the job again later
	default:
		// permanent: report
	}
}
