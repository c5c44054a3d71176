// The TLS profile of the SMPP listeners by default.

/**
 * Mozilla's "intermediate" profile: TLS 1.3, and TLS 1.2 with ECDHE and AEAD suites only (no
 * static RSA, no CBC); TLS 1.3 alone would shut out older Java and OpenSSL SMPP clients.
 */
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
