package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// A minimal PKCS#12 (.pfx) reader, standard library only, for the signing
// certificate file UnionPay's certificate tool (or the CFCA download)
// produces: password-based MAC (HMAC-SHA1 or HMAC-SHA256) and bags
// encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC or PBES2 (PBKDF2 with
// AES-CBC or 3DES-CBC, OpenSSL 3's default). Files whose certificates are
// encrypted with 40-bit RC2 (OpenSSL 1.x's old default) are refused with a
// message saying how to convert them; so is BER-only encoding.

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Cert          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidPBEWithSHA3DES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHARC2_40  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC        = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	errPFXRC2            = errors.New("the .pfx encrypts with 40-bit RC2, which is obsolete; convert it: openssl pkcs12 -legacy -in acp.pfx -nodes -out acp.pem, then openssl pkcs12 -export -in acp.pem -out acp-new.pfx (or paste the key and certificate as PEM)")
	errPFXPassword       = errors.New("the .pfx password is wrong (the file's integrity check failed)")
	errPFXUnsupportedAlg = errors.New("the .pfx uses an encryption this plugin does not read; re-export it with openssl pkcs12 -export, or paste the key and certificate as PEM")
)

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm algorithmIdentifier
	Digest    []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm algorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue   `asn1:"tag:0,explicit"`
	Attributes []asn1.RawValue `asn1:"set,optional"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KDF    algorithmIdentifier
	Scheme algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

// decodePFX returns the private key (PKCS#8 DER) and the certificates of
// a .pfx file.
func decodePFX(der []byte, password string) (keyDER []byte, certs []*x509.Certificate, err error) {
	var pfx pfxPDU
	rest, err := asn1.Unmarshal(der, &pfx)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("the file is not a DER PKCS#12 (.pfx/.p12) file: re-export it with openssl pkcs12 -export, or paste the key and certificate as PEM")
	}
	if pfx.Version != 3 || !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, nil, errPFXUnsupportedAlg
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, nil, fmt.Errorf("the .pfx content is not readable: %w", err)
	}
	pw := bmpPassword(password)
	if len(pfx.MacData.Mac.Digest) > 0 {
		if err := checkMAC(pfx.MacData, authSafe, pw); err != nil {
			return nil, nil, err
		}
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		return nil, nil, fmt.Errorf("the .pfx content is not readable: %w", err)
	}
	for _, ci := range infos {
		var data []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &data); err != nil {
				return nil, nil, fmt.Errorf("the .pfx content is not readable: %w", err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, nil, fmt.Errorf("the .pfx content is not readable: %w", err)
			}
			if data, err = pbeDecrypt(ed.EncryptedContentInfo.ContentEncryptionAlgorithm, ed.EncryptedContentInfo.EncryptedContent.Bytes, password, pw); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, errPFXUnsupportedAlg
		}
		var bags []safeBag
		if _, err := asn1.Unmarshal(data, &bags); err != nil {
			return nil, nil, errPFXPassword
		}
		for _, b := range bags {
			switch {
			case b.ID.Equal(oidCertBag):
				var cb certBag
				if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil || !cb.ID.Equal(oidX509Cert) {
					continue
				}
				c, err := x509.ParseCertificate(cb.Data)
				if err != nil {
					return nil, nil, fmt.Errorf("a certificate in the .pfx is not readable: %w", err)
				}
				certs = append(certs, c)
			case b.ID.Equal(oidKeyBag):
				keyDER = b.Value.Bytes
			case b.ID.Equal(oidShroudedKeyBag):
				var epki encryptedPrivateKeyInfo
				if _, err := asn1.Unmarshal(b.Value.Bytes, &epki); err != nil {
					return nil, nil, fmt.Errorf("the private key in the .pfx is not readable: %w", err)
				}
				if keyDER, err = pbeDecrypt(epki.Algorithm, epki.EncryptedData, password, pw); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if keyDER == nil {
		return nil, nil, errors.New("the .pfx holds no private key: export it with the private key (UnionPay's certificate tool: 导出私钥)")
	}
	return keyDER, certs, nil
}

// bmpPassword is PKCS#12's password encoding for its own KDF: UTF-16BE
// with a terminating zero character.
func bmpPassword(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r>>8), byte(r))
	}
	return append(b, 0, 0)
}

func checkMAC(m macData, content, pw []byte) error {
	var h func() hash.Hash
	switch {
	case m.Mac.Algorithm.Algorithm.Equal(oidSHA1):
		h = sha1.New
	case m.Mac.Algorithm.Algorithm.Equal(oidSHA256):
		h = sha256.New
	default:
		return errPFXUnsupportedAlg
	}
	key := pkcs12KDF(h, 3, pw, m.MacSalt, m.Iterations, h().Size())
	mac := hmac.New(h, key)
	mac.Write(content)
	if !hmac.Equal(mac.Sum(nil), m.Mac.Digest) {
		return errPFXPassword
	}
	return nil
}

// pkcs12KDF is RFC 7292 appendix B.2: id 1 derives a key, 2 an IV, 3 a
// MAC key.
func pkcs12KDF(h func() hash.Hash, id byte, pw, salt []byte, iterations, n int) []byte {
	u, v := h().Size(), 64
	fill := func(src []byte) []byte {
		if len(src) == 0 {
			return nil
		}
		out := make([]byte, v*((len(src)+v-1)/v))
		for i := range out {
			out[i] = src[i%len(src)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	in := append(fill(salt), fill(pw)...)
	var out []byte
	for len(out) < n {
		hh := h()
		hh.Write(d)
		hh.Write(in)
		a := hh.Sum(nil)
		for r := 1; r < iterations; r++ {
			hh = h()
			hh.Write(a)
			a = hh.Sum(nil)
		}
		out = append(out, a...)
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			// in[j:j+v] = (in[j:j+v] + b + 1) mod 2^(8v)
			carry := 1
			for k := v - 1; k >= 0; k-- {
				x := int(in[j+k]) + int(b[k]) + carry
				in[j+k], carry = byte(x), x>>8
			}
		}
	}
	return out[:n]
}

// pbeDecrypt decrypts a bag or key with the scheme its algorithm names.
func pbeDecrypt(alg algorithmIdentifier, data []byte, password string, bmp []byte) ([]byte, error) {
	var block cipher.Block
	var iv []byte
	switch {
	case alg.Algorithm.Equal(oidPBEWithSHARC2_40):
		return nil, errPFXRC2
	case alg.Algorithm.Equal(oidPBEWithSHA3DES):
		var p pbeParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, errPFXUnsupportedAlg
		}
		key := pkcs12KDF(sha1.New, 1, bmp, p.Salt, p.Iterations, 24)
		iv = pkcs12KDF(sha1.New, 2, bmp, p.Salt, p.Iterations, 8)
		var err error
		if block, err = des.NewTripleDESCipher(key); err != nil {
			return nil, err
		}
	case alg.Algorithm.Equal(oidPBES2):
		var p pbes2Params
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || !p.KDF.Algorithm.Equal(oidPBKDF2) {
			return nil, errPFXUnsupportedAlg
		}
		var kp pbkdf2Params
		if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
			return nil, errPFXUnsupportedAlg
		}
		prf := sha1.New
		if kp.PRF.Algorithm.Equal(oidHMACWithSHA256) {
			prf = sha256.New
		} else if len(kp.PRF.Algorithm) > 0 && !kp.PRF.Algorithm.Equal(oidHMACWithSHA1) {
			return nil, errPFXUnsupportedAlg
		}
		var keyLen int
		var newCipher func([]byte) (cipher.Block, error)
		switch {
		case p.Scheme.Algorithm.Equal(oidAES128CBC):
			keyLen, newCipher = 16, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidAES192CBC):
			keyLen, newCipher = 24, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidAES256CBC):
			keyLen, newCipher = 32, aes.NewCipher
		case p.Scheme.Algorithm.Equal(oidDESEDE3CBC):
			keyLen, newCipher = 24, des.NewTripleDESCipher
		default:
			return nil, errPFXUnsupportedAlg
		}
		if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil {
			return nil, errPFXUnsupportedAlg
		}
		key, err := pbkdf2.Key(prf, password, kp.Salt, kp.Iterations, keyLen)
		if err != nil {
			return nil, errPFXUnsupportedAlg
		}
		if block, err = newCipher(key); err != nil {
			return nil, err
		}
	default:
		return nil, errPFXUnsupportedAlg
	}
	if len(data) == 0 || len(data)%block.BlockSize() != 0 || len(iv) != block.BlockSize() {
		return nil, errPFXPassword
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// PKCS#7 padding; a wrong password shows here when there is no MAC.
	pad := int(out[len(out)-1])
	if pad == 0 || pad > block.BlockSize() || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errPFXPassword
	}
	return out[:len(out)-pad], nil
}
