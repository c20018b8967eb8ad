//! AES-128-ECB/PKCS#7 and the base64 flavours the platforms use.
//! (Placeholder replaced by the crypto/http helper.)
