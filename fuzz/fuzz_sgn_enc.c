/*
 * fuzz_sgn_enc.c: fuzz target for the `.enc.sgn` reader as a phone runs it
 * (src/pki/pki_sgn.h over src/wire/sgn.h): decode, check, verify the
 * signature against the signer's certificate and decrypt with the phone key.
 *
 * The keys are the test vectors' (tests/vectors/keys: the SAST signer's
 * certificate and the RSA LSC's private key), so seeds made by
 * fuzz/make-corpus.py for that phone decrypt and the mutations reach every
 * step. Any input must be refused with an error or give a plaintext no longer
 * than the ciphertext; nothing may crash or leak.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_sgn.h"
#include "wire/sgn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char phone_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCsNyRG/tUpED0g\n"
	"SOBymskH6hKFRUjHH8+bkdgrxnaKoA+kMxj/dlu6apxIk/Vhv7kflezG19A8CDGR\n"
	"/EQUYyvU4/cTG3c3/qlUrvVrsg0IT3zkVjhdjWrHPAoxMGjTdii1Ow/VXElokgo2\n"
	"TfXAi/pdZIk8wjfEz6shkeexbVGix7k5Jbkyl9gwa4kz5dS7MddjKzeGzMO28WZW\n"
	"hTEJsTW7FPAJCNhBpy5ks7CCZbcalcsy9npSYkrl9Q0VaQJ2Du4jEhxkzNc39bbr\n"
	"jw2RfmwSFwV0KNsXCxo8WeDCWE8645Z1uYsKCh/rl2C2v7zNLyFeoFEVu6KcEHnp\n"
	"7xz9qkxHAgMBAAECggEAGJWAkL/1FvkR+Mdefw24j/Aqt6ql0oMohFlEBi+9IVnr\n"
	"EbIXqfQv8QMiDzxL5anUV/1zgQky2TcEOIZOA6kKi0gFr80WbkBk1MlrEHYo5RxP\n"
	"xFrIjhZPfWSFQfNaq4EtG330ay1S72IVoh3r7JIu6eEdtDY3dtl8YPzumcX0xutG\n"
	"ubTSHiao2OR8FSt0PHWZdujWhTR5RVKfvGn6SJdamEP4gAb8yZ6NDGBHsqDax7YX\n"
	"OP7CZCuTrdY+xGp1jAeUlrlFcUG/VWgELu10kol87CiU6nGYc/nNoVUitXi75Wy6\n"
	"mNZFoWo8mpCelA3+bSvbws1ozkcIVu0UuR3rtWF9XQKBgQDnmrA+POj7iMM1ac1q\n"
	"apLfnTi3xc04eg7HLW/TF+DRn2W5XPL3UX4s6lC8bRWwgz2Cf5mMvqnS1GjSADde\n"
	"QDC7LPiAZBmoLThhtqe+bP2NB5ru7jb7bZcNl48S2MRvoPSKW/chWkyCRNTa+pMe\n"
	"f5nGB+ScFoU8k3AeweX9NW+ICwKBgQC+WwGkMog1/t6vjIo8l75Qn165U2E/CSvD\n"
	"Ugb34+VYsbsYhIEfIfPf8izhiIMIskYvTgzBfwjaiewYpC0WIBVD2ZrNT6cBJiX3\n"
	"/oA+hPjZFdqrDVNp+56AR0wYnLABvyiUH4lm1ecgOOASNwVoKOGNc2fVrXfc3Ha3\n"
	"4ttH/5SmNQKBgEVZpHx+cKUhBpLv43qB/wjGYz1kFVdb9SDfEiT7eW5LdIJUuswj\n"
	"ssxwPUyuvVfldH2nB6uFTAS9ZcW8Gtg2EGF7zc1kK+qX39Iih4gVyrZ4GISDACO5\n"
	"ZQnE4CqcjfV/FLp5Xz61c0NuqO4JKhRv0PPjWSkD9VF2NJSBKwTvAz6RAoGAGd+s\n"
	"3XCw6wX1ps7ni0zk5XiEG5Slxzer5ySjJdaoOeIOmEqKcnze9TWpvA4eIXR57bwi\n"
	"J7rorSvKF59ZMYSy30IYtId7H8DbsFW7gMP6PyelTVLGX8V/ydfnFAFYOySMk3Wl\n"
	"64BvpgWVD2TDK2FDJ0LkfjrR7Adba6s+Ow8WWXECgYEAvazI2Tn0mBxW2UxtBzjp\n"
	"WiGrgxvonDWCVA7LYocLdjmBqcbC2RxAMkxuX1KkV9knKEvlScNoN8wirsvZi5GY\n"
	"JcCwvTFcL72RSzeZlQGQ5m+nNmrfSkugrxIX6BfcgGkIGjiWhrWDqB3RFa4uBXIK\n"
	"sTtb0VEFPs1njyg3+ReP1u8=\n"
	"-----END PRIVATE KEY-----\n";

static const char signer_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIID1DCCArygAwIBAgIUYkuyoXRvDgCVJ7XjaQ/lDFLMs7swDQYJKoZIhvcNAQEL\n"
	"BQAwcDEcMBoGA1UEAwwTSVRMUkVDT1ZFUllfZXhhbXBsZTEOMAwGA1UECwwFVm9p\n"
	"Y2UxEDAOBgNVBAoMB0V4YW1wbGUxEzARBgNVBAcMCldlbGxpbmd0b24xDDAKBgNV\n"
	"BAgMA1dHTjELMAkGA1UEBhMCTlowHhcNMjYxMTI0MTgyMzMwWhcNMzYxMTIxMTgy\n"
	"MzMwWjBwMRwwGgYDVQQDDBNJVExSRUNPVkVSWV9leGFtcGxlMQ4wDAYDVQQLDAVW\n"
	"b2ljZTEQMA4GA1UECgwHRXhhbXBsZTETMBEGA1UEBwwKV2VsbGluZ3RvbjEMMAoG\n"
	"A1UECAwDV0dOMQswCQYDVQQGEwJOWjCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC\n"
	"AQoCggEBALEEtnJbA0/ra98ZMO7cKszGhRn216NSNjOdMDkjcDgcPCV8gCjsQKir\n"
	"YnLLUhc7w3LywxipSEFjYkXruxuNUHAfLDVtH+U18JNR7Utna3njrDv2k7PnTr4P\n"
	"iNi6AxB/xZlVV9vtwjeujTk1D4E4oCFb17wCVe0C36xoO2w6K728ksURiEUo8Pp4\n"
	"buTbGryl/dCdI5zojKAQjmprOqhJRLWE+8Pdpxy1v1kE/5GlrlnFy/vxgrUmJvPj\n"
	"4yX+k4b8RQf7lgA6USNV7SFWjvFmwhwZqHciHv8LA8FxK7DeXHx6CrQN2hA31vAd\n"
	"IagAXM53JPXEriT/MGs6A5xp5Qe6dlsCAwEAAaNmMGQwHQYDVR0OBBYEFELY0qKa\n"
	"USXtJCqORnVMo9OpsbG6MB8GA1UdIwQYMBaAFELY0qKaUSXtJCqORnVMo9OpsbG6\n"
	"MBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgKEMA0GCSqGSIb3DQEB\n"
	"CwUAA4IBAQAREXEwjrvpQ9dnYn8oUZyww6tA5L57BfIFhCJcdDf2WMhFWww4BNtG\n"
	"t8uC/iRAO31mg7EdAJTRe/SgjLhaqltZVhudUxRpI2pzMAyTY7A2jL6mRFWe/jxW\n"
	"4jerIqYSRp/vgZMnBL202mHIWz6x475Sj8PGwjkRLW/1hDwiitvAHId3At1ceSRk\n"
	"2Q8FxhVEWK5Xv9M261awENn9jeYArlvVOogThT0sMHg+47ytLOFmH56b5qPeqcur\n"
	"aBB2hBEosOLIHGhNNZWMQdUZ7txt3Q4pbagk4Jl4T6ZR7IEY8NSR0deEhTOJeWCd\n"
	"hu74OMO6mM2I/UsK3pXeU9wGRpsmOos6\n"
	"-----END CERTIFICATE-----\n";

static EVP_PKEY *phone_key;
static X509 *signer;

static void check(int ok)
{
	if (!ok)
		abort();
}

static void load_keys(void)
{
	BIO *b;

	if (phone_key)
		return;
	b = BIO_new_mem_buf(phone_key_pem, -1);
	phone_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(signer_pem, -1);
	signer = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	check(phone_key && signer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sgn_file f;
	struct buf xml;
	char err[ERRLEN] = "";

	load_keys();
	if (sgn_decode(&f, data, size, err, sizeof err) != 0)
		return 0;
	if (pki_sgn_verify(&f, signer, err, sizeof err) != 0)
		check(err[0] != '\0');
	buf_init(&xml);
	if (pki_sgn_decrypt(&f, phone_key, &xml, err, sizeof err) == 0)
		check(f.enc.present && xml.len <= f.content_len);
	else
		check(err[0] != '\0' && xml.len == 0);
	buf_free(&xml);
	return 0;
}
