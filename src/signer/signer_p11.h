/*
 * signer_p11.h: keys in PKCS#11 tokens, through p11-kit (module loading,
 * RFC 7512 URIs). A key is a key of the built-in provider
 * (signer_provider.h) whose signatures and RSA key exchange happen in the
 * token (C_Sign, C_Decrypt); it is generated there (C_GenerateKeyPair,
 * sensitive, not extractable) and never leaves.
 *
 * A state's key file then holds one line, the key's URI:
 *   pkcs11:token=opencapf;object=opencapf-1a2b..;id=%1a%2b..;type=private?pin-source=file:/etc/opencapf/pin
 * The module: the URI's module-path query attribute, else
 * $OPENCAPF_PKCS11_MODULE, else every module p11-kit knows. The PIN: the
 * URI's pin-value or pin-source (a file; its first line), else
 * $OPENCAPF_PKCS11_PIN, else the file $OPENCAPF_PKCS11_PIN_FILE. A
 * pin-value is never written into a key file.
 *
 * One session per token, used by one thread at a time.
 */
#ifndef OPENCAPF_SIGNER_P11_H
#define OPENCAPF_SIGNER_P11_H

#include <stddef.h>

/* The state setting naming the token a state's keys are made in (`init --key-store`). */
#define SIGNER_P11_STORE_SETTING "key_store"

/* pki_key_load reads key files that name token keys (pki.h key store). */
int signer_p11_install(char *err, size_t errlen);
/* From now on pki_key_generate makes keys in the token `uri` names
 * ("pkcs11:token=...", no object), and pki_key_save writes their URI. */
int signer_p11_set_store(const char *uri, char *err, size_t errlen);
/* `uri` without its pin-value (what is kept in the state); 0 or -1 if too long. */
int signer_p11_uri_public(const char *uri, char *out, size_t outcap);

#endif
