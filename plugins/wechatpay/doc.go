// Command wechatpay is Kassa's WeChat Pay gateway plugin (payment.wechatpay),
// speaking WeChat Pay API v3 for mainland merchants (直连商户) in the
// "WeChat Pay public key" (微信支付公钥) mode.
//
// Payment methods, chosen by CreateRequest.PaymentMethod:
//
//	wechatpay_native  Native: a QR code (code_url) the buyer scans (default)
//	wechatpay_h5      H5: a redirect to h5_url in a mobile browser; needs the
//	                  buyer's IP: CreateRequest.BuyerIP, which Kassa fills,
//	                  or Metadata["client_ip"] when given
//	wechatpay_jsapi   JSAPI: inside WeChat, the WeixinJSBridge parameters
//	                  (signed prepay_id package) as the client secret; needs
//	                  the buyer's openid in Metadata["wechat_openid"]
//
// Requests carry the WECHATPAY2-SHA256-RSA2048 Authorization signed with
// the merchant's API private key; every answer and notification must carry a
// valid Wechatpay-Signature of WeChat Pay's public key, signed less than five
// minutes from now. Notifications are decrypted with the APIv3 key
// (AEAD_AES_256_GCM). out_trade_no is Kassa's attempt id when it fits
// WeChat's rules, otherwise a hash of it; the attempt id also travels in
// attach. See docs/gateways/wechatpay.md for the settings.
package main
