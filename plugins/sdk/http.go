package sdk

import "net/http"

// HTTPRequest is a request the host received under /plugins/{plugin id}/ and
// hands to the plugin's HandleHTTP (a plugin has no listener of its own).
type HTTPRequest struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Path is the path below the plugin's prefix, starting with "/": a
	// request for /plugins/payment.testpay/pay/123 has Path "/pay/123".
	Path string
	// Query is the raw query string without "?".
	Query string
	// Header holds the request headers.
	Header http.Header
	// Body is the request body, up to the host's size limit.
	Body []byte
	// BaseURL is the absolute URL of the plugin's prefix as the buyer sees it,
	// e.g. "https://shop.example/plugins/payment.testpay".
	BaseURL string
	// RemoteAddr is the client's IP address as determined by the host.
	RemoteAddr string
}

// HTTPResponse is the answer to an [HTTPRequest] or to a webhook.
type HTTPResponse struct {
	// Status is the HTTP status code; 0 means 200.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the response body.
	Body []byte
}

// StatusCode returns Status, or 200 when Status is 0.
func (r HTTPResponse) StatusCode() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}
