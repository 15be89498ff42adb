package rpc

import (
	"net/http"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
)

// TS converts a time to a protobuf timestamp; the zero time becomes nil.
func TS(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time converts a protobuf timestamp to a UTC time; nil becomes the zero time.
func Time(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}

// MoneyToPB converts Money; the zero value becomes nil.
func MoneyToPB(m sdk.Money) *pb.Money {
	if m.IsZero() {
		return nil
	}
	return &pb.Money{Amount: m.Amount, Currency: m.Currency}
}

// MoneyFromPB converts Money; nil becomes the zero value.
func MoneyFromPB(m *pb.Money) sdk.Money {
	if m == nil {
		return sdk.Money{}
	}
	return sdk.Money{Amount: m.GetAmount(), Currency: m.GetCurrency()}
}

// HeaderToPB converts HTTP headers.
func HeaderToPB(h http.Header) map[string]*pb.HeaderValues {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]*pb.HeaderValues, len(h))
	for k, v := range h {
		out[k] = &pb.HeaderValues{Values: append([]string(nil), v...)}
	}
	return out
}

// HeaderFromPB converts HTTP headers, canonicalizing names.
func HeaderFromPB(m map[string]*pb.HeaderValues) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		for _, s := range v.GetValues() {
			h.Add(k, s)
		}
	}
	return h
}

var kindToPB = map[sdk.Kind]pb.Kind{
	sdk.KindPayment: pb.Kind_KIND_PAYMENT,
	sdk.KindInvoice: pb.Kind_KIND_INVOICE,
	sdk.KindNotify:  pb.Kind_KIND_NOTIFY,
}

// InfoToPB converts Info.
func InfoToPB(i sdk.Info) *pb.PluginInfo {
	return &pb.PluginInfo{
		Id:              i.ID,
		Kind:            kindToPB[i.Kind],
		Version:         i.Version,
		ProtocolVersion: int32(i.ProtocolVersion),
		Capabilities:    i.Capabilities,
		ConfigSchema:    i.ConfigSchema,
		DisplayName:     i.DisplayName,
		Description:     i.Description,
		SdkVersion:      i.SDKVersion,
		DisplayNames:    i.DisplayNames,
		Descriptions:    i.Descriptions,
	}
}

// InfoFromPB converts Info.
func InfoFromPB(p *pb.PluginInfo) sdk.Info {
	var k sdk.Kind
	for sk, pk := range kindToPB {
		if pk == p.GetKind() {
			k = sk
		}
	}
	return sdk.Info{
		ID:              p.GetId(),
		Kind:            k,
		Version:         p.GetVersion(),
		ProtocolVersion: int(p.GetProtocolVersion()),
		Capabilities:    p.GetCapabilities(),
		ConfigSchema:    p.GetConfigSchema(),
		DisplayName:     p.GetDisplayName(),
		Description:     p.GetDescription(),
		SDKVersion:      p.GetSdkVersion(),
		DisplayNames:    p.GetDisplayNames(),
		Descriptions:    p.GetDescriptions(),
	}
}

// ConfigErrorsToPB converts configuration errors.
func ConfigErrorsToPB(errs []sdk.ConfigError) []*pb.ConfigError {
	out := make([]*pb.ConfigError, len(errs))
	for i, e := range errs {
		out[i] = &pb.ConfigError{Field: e.Field, Code: e.Code, Message: e.Message}
	}
	return out
}

// ConfigErrorsFromPB converts configuration errors.
func ConfigErrorsFromPB(errs []*pb.ConfigError) []sdk.ConfigError {
	if len(errs) == 0 {
		return nil
	}
	out := make([]sdk.ConfigError, len(errs))
	for i, e := range errs {
		out[i] = sdk.ConfigError{Field: e.GetField(), Code: e.GetCode(), Message: e.GetMessage()}
	}
	return out
}

// HTTPRequestToPB converts a page request.
func HTTPRequestToPB(r sdk.HTTPRequest) *pb.HTTPRequest {
	return &pb.HTTPRequest{
		Method: r.Method, Path: r.Path, Query: r.Query, Headers: HeaderToPB(r.Header),
		Body: r.Body, BaseUrl: r.BaseURL, RemoteAddr: r.RemoteAddr,
	}
}

// HTTPRequestFromPB converts a page request.
func HTTPRequestFromPB(r *pb.HTTPRequest) sdk.HTTPRequest {
	return sdk.HTTPRequest{
		Method: r.GetMethod(), Path: r.GetPath(), Query: r.GetQuery(), Header: HeaderFromPB(r.GetHeaders()),
		Body: r.GetBody(), BaseURL: r.GetBaseUrl(), RemoteAddr: r.GetRemoteAddr(),
	}
}

// HTTPResponseToPB converts an HTTP answer.
func HTTPResponseToPB(r sdk.HTTPResponse) *pb.HTTPResponse {
	return &pb.HTTPResponse{Status: int32(r.Status), Headers: HeaderToPB(r.Header), Body: r.Body}
}

// HTTPResponseFromPB converts an HTTP answer; nil becomes the zero value.
func HTTPResponseFromPB(r *pb.HTTPResponse) sdk.HTTPResponse {
	if r == nil {
		return sdk.HTTPResponse{}
	}
	return sdk.HTTPResponse{Status: int(r.GetStatus()), Header: HeaderFromPB(r.GetHeaders()), Body: r.GetBody()}
}
