//! Plain HTTP values: the sans-IO seam every platform adapter uses.
//! (Placeholder replaced by the crypto/http helper.)
