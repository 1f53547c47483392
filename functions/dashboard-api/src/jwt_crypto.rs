//! The cryptography under `jsonwebtoken`, on ring: the library rustls already links for TLS
//! (whose certificate checks verify the same RSA, RSA-PSS and ECDSA signatures). jsonwebtoken
//! otherwise brings a second implementation of each (RustCrypto's `rsa`, `p256`, `p384`,
//! `ed25519-dalek`: about 215 KiB of code in the dashboard) or a third (aws-lc). Its documented
//! extension point, [`CryptoProvider`], takes ours instead; [`install`] makes it the process's.
//! Numbers: docs/performance.md, "Binary sizes".
//!
//! Key formats are jsonwebtoken's: RSA public keys as PKCS#1 DER or as modulus and exponent,
//! EC public keys as the uncompressed point, Ed25519 as the raw 32 bytes; RSA private keys as
//! PKCS#1 DER, EC and Ed25519 private keys as PKCS#8. RSA keys must have 2,048 to 8,192 bits
//! (ring's bounds; RustCrypto took shorter ones): Cognito's are 2,048, and NIST has not allowed
//! shorter RSA signing keys since 2013.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::{digest, hmac, signature as ring_sig};

/// jsonwebtoken on ring.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components,
        extract_ec_public_key_coordinates,
        compute_digest,
    },
};

/// Makes [`PROVIDER`] the process's jsonwebtoken provider. Idempotent: called by everything
/// here that signs or verifies, before it does.
pub fn install() {
    // Err only when a provider is installed already: ours, since nothing else installs one.
    let _ = PROVIDER.install_default();
}

/// Verifies with `algorithm` and a public key (or the shared secret, for HMAC).
struct RingVerifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Signs with `algorithm` and a private key (or the shared secret, for HMAC).
struct RingSigner {
    algorithm: Algorithm,
    key: EncodingKey,
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier { algorithm: *algorithm, key: key.clone() }))
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingSigner { algorithm: *algorithm, key: key.clone() }))
}

fn hmac_algorithm(algorithm: Algorithm) -> Option<hmac::Algorithm> {
    match algorithm {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// ring's RSA algorithms for a JWT algorithm: the one that verifies, the one that signs.
fn rsa(
    algorithm: Algorithm,
) -> Option<(&'static ring_sig::RsaParameters, &'static dyn ring_sig::RsaEncoding)> {
    Some(match algorithm {
        Algorithm::RS256 => (&ring_sig::RSA_PKCS1_2048_8192_SHA256, &ring_sig::RSA_PKCS1_SHA256),
        Algorithm::RS384 => (&ring_sig::RSA_PKCS1_2048_8192_SHA384, &ring_sig::RSA_PKCS1_SHA384),
        Algorithm::RS512 => (&ring_sig::RSA_PKCS1_2048_8192_SHA512, &ring_sig::RSA_PKCS1_SHA512),
        Algorithm::PS256 => (&ring_sig::RSA_PSS_2048_8192_SHA256, &ring_sig::RSA_PSS_SHA256),
        Algorithm::PS384 => (&ring_sig::RSA_PSS_2048_8192_SHA384, &ring_sig::RSA_PSS_SHA384),
        Algorithm::PS512 => (&ring_sig::RSA_PSS_2048_8192_SHA512, &ring_sig::RSA_PSS_SHA512),
        _ => return None,
    })
}

/// ring's ECDSA algorithms for a JWT algorithm, and its curve.
struct Ecdsa {
    verification: &'static ring_sig::EcdsaVerificationAlgorithm,
    signing: &'static ring_sig::EcdsaSigningAlgorithm,
    curve: EllipticCurve,
    /// Bytes of each coordinate of a point.
    coordinate_len: usize,
}

fn ecdsa(algorithm: Algorithm) -> Option<Ecdsa> {
    Some(match algorithm {
        Algorithm::ES256 => Ecdsa {
            verification: &ring_sig::ECDSA_P256_SHA256_FIXED,
            signing: &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            curve: EllipticCurve::P256,
            coordinate_len: 32,
        },
        Algorithm::ES384 => Ecdsa {
            verification: &ring_sig::ECDSA_P384_SHA384_FIXED,
            signing: &ring_sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            curve: EllipticCurve::P384,
            coordinate_len: 48,
        },
        _ => return None,
    })
}

/// ring's errors say nothing more than that it failed (by design: no oracle for an attacker).
fn failed<E>(_: E) -> signature::Error {
    signature::Error::new()
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let algorithm = self.algorithm;
        let key = match self.key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                let (parameters, _) = rsa(algorithm).ok_or_else(signature::Error::new)?;
                return ring_sig::RsaPublicKeyComponents { n, e }
                    .verify(parameters, message, signature)
                    .map_err(failed);
            }
            DecodingKeyKind::SecretOrDer(bytes) => bytes.as_slice(),
        };
        if let Some(hmac_algorithm) = hmac_algorithm(algorithm) {
            return hmac::verify(&hmac::Key::new(hmac_algorithm, key), message, signature).map_err(failed);
        }
        let verification: &dyn ring_sig::VerificationAlgorithm = match algorithm {
            Algorithm::EdDSA => &ring_sig::ED25519,
            other => match (rsa(other), ecdsa(other)) {
                (Some((parameters, _)), _) => parameters,
                (None, Some(ecdsa)) => ecdsa.verification,
                (None, None) => return Err(signature::Error::new()),
            },
        };
        ring_sig::UnparsedPublicKey::new(verification, key).verify(message, signature).map_err(failed)
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let algorithm = self.algorithm;
        let key = self.key.inner();
        if let Some(hmac_algorithm) = hmac_algorithm(algorithm) {
            return Ok(hmac::sign(&hmac::Key::new(hmac_algorithm, key), message).as_ref().to_vec());
        }
        let rng = SystemRandom::new();
        if let Some((_, encoding)) = rsa(algorithm) {
            let pair = ring_sig::RsaKeyPair::from_der(key).map_err(failed)?;
            let mut signed = vec![0; pair.public().modulus_len()];
            pair.sign(encoding, &rng, message, &mut signed).map_err(failed)?;
            return Ok(signed);
        }
        if let Some(ecdsa) = ecdsa(algorithm) {
            let pair = ring_sig::EcdsaKeyPair::from_pkcs8(ecdsa.signing, key, &rng).map_err(failed)?;
            return Ok(pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec());
        }
        if algorithm == Algorithm::EdDSA {
            let pair = ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(key).map_err(failed)?;
            return Ok(pair.sign(message).as_ref().to_vec());
        }
        Err(signature::Error::new())
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// The public modulus and exponent of an RSA private key (PKCS#1 DER).
fn extract_rsa_public_key_components(private_key: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let pair = ring_sig::RsaKeyPair::from_der(private_key)
        .map_err(|error| ErrorKind::InvalidRsaKey(error.to_string()))?;
    let components = ring_sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((components.n, components.e))
}

/// The curve and public point of an EC private key (PKCS#8).
fn extract_ec_public_key_coordinates(
    private_key: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    let Ecdsa { signing, curve, coordinate_len, .. } = ecdsa(algorithm).ok_or(ErrorKind::InvalidEcdsaKey)?;
    let pair = ring_sig::EcdsaKeyPair::from_pkcs8(signing, private_key, &SystemRandom::new())
        .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    // The uncompressed point: 0x04, x, y.
    match ring_sig::KeyPair::public_key(&pair).as_ref().split_first() {
        Some((4, point)) if point.len() == 2 * coordinate_len => {
            let (x, y) = point.split_at(coordinate_len);
            Ok((curve, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
    };
    digest::digest(algorithm, data).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;

    fn round_trip(algorithm: Algorithm, signing: &EncodingKey, verifying: &DecodingKey) {
        install();
        let claims = serde_json::json!({"sub": "u-1", "n": 1});
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), &claims, signing).unwrap();
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, verifying, &validation).unwrap();
        assert_eq!(data.claims, claims, "{algorithm:?}");
        // The same token with one byte of its signature changed does not verify.
        let (body, signed) = token.rsplit_once('.').unwrap();
        let mut bytes = signed.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{body}.{}", String::from_utf8(bytes).unwrap());
        let error = jsonwebtoken::decode::<serde_json::Value>(&tampered, verifying, &validation).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidSignature, "{algorithm:?}");
    }

    #[test]
    fn every_hmac_and_ecdsa_algorithm_signs_and_verifies() {
        for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            round_trip(algorithm, &EncodingKey::from_secret(b"secret"), &DecodingKey::from_secret(b"secret"));
        }
        let rng = SystemRandom::new();
        for algorithm in [Algorithm::ES256, Algorithm::ES384] {
            let signing = ecdsa(algorithm).unwrap().signing;
            let pkcs8 = ring_sig::EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let pair = ring_sig::EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
            let verifying = DecodingKey::from_ec_der(pair.public_key().as_ref());
            round_trip(algorithm, &EncodingKey::from_ec_der(pkcs8.as_ref()), &verifying);
            // The JWK utilities give the same point back.
            let (_, x, y) = extract_ec_public_key_coordinates(pkcs8.as_ref(), algorithm).unwrap();
            assert_eq!([&[4u8][..], &x, &y].concat(), pair.public_key().as_ref());
        }
        let pkcs8 = ring_sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = ring_sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        round_trip(
            Algorithm::EdDSA,
            &EncodingKey::from_ed_der(pkcs8.as_ref()),
            &DecodingKey::from_ed_der(pair.public_key().as_ref()),
        );
    }

    #[test]
    fn every_rsa_algorithm_signs_and_verifies_with_the_modulus_and_exponent() {
        use base64::Engine;
        let private =
            base64::engine::general_purpose::STANDARD.decode(crate::oidc::tests::RSA_KEY_PKCS1).unwrap();
        let (n, e) = extract_rsa_public_key_components(&private).unwrap();
        let base64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert_eq!(base64url.encode(&n), crate::oidc::tests::RSA_MODULUS);
        assert_eq!(e, [1, 0, 1]);
        let verifying = DecodingKey::from_rsa_raw_components(&n, &e);
        for algorithm in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ] {
            round_trip(algorithm, &EncodingKey::from_rsa_der(&private), &verifying);
        }
    }

    #[test]
    fn a_key_of_another_family_is_refused_before_anything_is_verified() {
        install();
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "u-1"}),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        let key = DecodingKey::from_ec_der(&[4; 65]);
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        let error = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidKeyFormat);
    }

    #[test]
    fn sha_digests_are_the_standard_ones() {
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(compute_digest(b"abc", ThumbprintHash::SHA256)[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(compute_digest(b"abc", ThumbprintHash::SHA384).len(), 48);
        assert_eq!(compute_digest(b"abc", ThumbprintHash::SHA512).len(), 64);
    }
}
