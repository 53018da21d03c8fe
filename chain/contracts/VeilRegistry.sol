// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title VeilRegistry: an append-only, event-sourced registry of approved TEE measurements and worker attestations.
/// @notice Governance (the owner) approves and revokes measurement identities. Operators it authorises publish, for each
///         enclave signing address, a digest of the attestation evidence that proved it runs an approved measurement.
///         Clients ask `isAttested(signer)` before trusting a response signed by `signer`.
/// @dev Only hashes are stored: the evidence itself stays off-chain (it is large and may contain chip identifiers).
///      Labels and source references live only in events, which are the append-only transparency record; storage holds
///      just what the views need, to keep approvals cheap.
contract VeilRegistry {
    /// Platform tags: the ASCII name right-padded with zero bytes to 32 bytes (readable in raw logs).
    bytes32 public constant PLATFORM_SEV_SNP = "sev-snp";
    bytes32 public constant PLATFORM_TDX = "tdx";
    bytes32 public constant PLATFORM_NITRO = "nitro";
    bytes32 public constant PLATFORM_SIMULATED = "simulated";

    struct Measurement {
        bytes32 platform;
        // Incremented on every approval. An attestation is bound to the epoch it was published under, so re-approving a
        // revoked measurement never resurrects attestations published before the revocation.
        uint32 epoch;
        bool approved;
        uint64 approvedAt;
    }

    struct Attestation {
        bytes32 evidenceHash;
        bytes32 platform;
        bytes32 measurementId;
        bytes32 hpkeKeyHash;
        address operator;
        uint64 publishedAt;
        uint64 expiresAt;
        uint32 measurementEpoch;
        bool revoked;
    }

    /// Storage form of an attestation: the platform is not stored (it is the measurement's platform, checked equal at
    /// publish time), which saves a 20k-gas slot on every first publish.
    struct StoredAttestation {
        bytes32 evidenceHash;
        bytes32 measurementId;
        bytes32 hpkeKeyHash;
        address operator;
        uint64 publishedAt;
        uint64 expiresAt;
        uint32 measurementEpoch;
        bool revoked;
    }

    address public owner;
    address public pendingOwner;
    mapping(address => bool) public isOperator;
    mapping(bytes32 => Measurement) private _measurements;
    mapping(address => StoredAttestation) private _attestations;

    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event OperatorSet(address indexed operator, bool authorised);
    event MeasurementApproved(
        bytes32 indexed measurementId, bytes32 indexed platform, uint32 epoch, bytes measurement, string label, string source
    );
    event MeasurementRevoked(bytes32 indexed measurementId, bytes32 indexed platform, uint32 epoch);
    event AttestationPublished(
        address indexed signer,
        bytes32 indexed measurementId,
        address indexed operator,
        bytes32 evidenceHash,
        bytes32 platform,
        bytes32 hpkeKeyHash,
        uint64 expiresAt
    );
    event AttestationRevoked(address indexed signer, address indexed by);

    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NotOperator(address caller);
    error NotAuthorised(address caller);
    error ZeroAddress();
    error UnknownPlatform(bytes32 platform);
    error EmptyMeasurement();
    error MeasurementAlreadyApproved(bytes32 measurementId);
    error MeasurementNotApproved(bytes32 measurementId);
    error PlatformMismatch(bytes32 measurementId, bytes32 expected, bytes32 actual);
    error EmptyEvidenceHash();
    error ExpiryNotInFuture(uint64 expiresAt, uint64 blockTimestamp);
    error AttestationNotFound(address signer);
    error AttestationAlreadyRevoked(address signer);
    error AttestationHeldByOtherOperator(address signer, address operator);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Step one of a two-step transfer: a typo in `newOwner` cannot lock governance out, because nothing changes
    ///         until `newOwner` proves it controls its key by calling `acceptOwnership`. address(0) cancels.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner || msg.sender == address(0)) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    function setOperator(address operator, bool authorised) external onlyOwner {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[operator] = authorised;
        emit OperatorSet(operator, authorised);
    }

    /// @notice measurementId = keccak256(abi.encodePacked(platformTag, measurement)). Mirrored by `measurementId()` in TS.
    function measurementIdOf(bytes32 platform, bytes calldata measurement) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(platform, measurement));
    }

    /// @notice Approve a measurement. The raw measurement bytes, label and source are emitted (not stored) so the event
    ///         log is the complete, append-only record of everything ever approved. Re-approving after a revocation is
    ///         allowed and emits a new event with a new epoch.
    function approveMeasurement(bytes32 platform, bytes calldata measurement, string calldata label, string calldata source)
        external
        onlyOwner
        returns (bytes32 measurementId)
    {
        if (!_knownPlatform(platform)) revert UnknownPlatform(platform);
        if (measurement.length == 0) revert EmptyMeasurement();
        measurementId = measurementIdOf(platform, measurement);
        Measurement storage m = _measurements[measurementId];
        if (m.approved) revert MeasurementAlreadyApproved(measurementId);
        uint32 epoch = m.epoch + 1;
        _measurements[measurementId] =
            Measurement({platform: platform, epoch: epoch, approved: true, approvedAt: uint64(block.timestamp)});
        emit MeasurementApproved(measurementId, platform, epoch, measurement, label, source);
    }

    function revokeMeasurement(bytes32 measurementId) external onlyOwner {
        Measurement storage m = _measurements[measurementId];
        if (!m.approved) revert MeasurementNotApproved(measurementId);
        m.approved = false;
        emit MeasurementRevoked(measurementId, m.platform, m.epoch);
    }

    function getMeasurement(bytes32 measurementId) external view returns (Measurement memory) {
        return _measurements[measurementId];
    }

    // ---------------------------------------------------------------- attestations

    /// @notice Publish (or refresh) the attestation of an enclave signing address. One record per signer: a refresh
    ///         overwrites it. A live record can only be refreshed by the operator that published it, so one operator
    ///         cannot take over another's worker.
    function publishAttestation(
        bytes32 evidenceHash,
        bytes32 platform,
        bytes32 measurementId,
        address signer,
        bytes32 hpkeKeyHash,
        uint64 expiresAt
    ) external {
        if (!isOperator[msg.sender]) revert NotOperator(msg.sender);
        if (signer == address(0)) revert ZeroAddress();
        if (evidenceHash == bytes32(0)) revert EmptyEvidenceHash();
        Measurement storage m = _measurements[measurementId];
        if (!m.approved) revert MeasurementNotApproved(measurementId);
        if (m.platform != platform) revert PlatformMismatch(measurementId, m.platform, platform);
        if (expiresAt <= block.timestamp) revert ExpiryNotInFuture(expiresAt, uint64(block.timestamp));
        StoredAttestation storage existing = _attestations[signer];
        if (
            existing.operator != address(0) && existing.operator != msg.sender && !existing.revoked
                && existing.expiresAt > block.timestamp
        ) revert AttestationHeldByOtherOperator(signer, existing.operator);
        _attestations[signer] = StoredAttestation({
            evidenceHash: evidenceHash,
            measurementId: measurementId,
            hpkeKeyHash: hpkeKeyHash,
            operator: msg.sender,
            publishedAt: uint64(block.timestamp),
            expiresAt: expiresAt,
            measurementEpoch: m.epoch,
            revoked: false
        });
        emit AttestationPublished(signer, measurementId, msg.sender, evidenceHash, platform, hpkeKeyHash, expiresAt);
    }

    /// @notice Revoke a signer's attestation: the owner, or the operator that published it. Permanent for that record;
    ///         the operator must publish fresh evidence to attest the signer again.
    function revokeAttestation(address signer) external {
        StoredAttestation storage a = _attestations[signer];
        if (a.operator == address(0)) revert AttestationNotFound(signer);
        if (msg.sender != owner && msg.sender != a.operator) revert NotAuthorised(msg.sender);
        if (a.revoked) revert AttestationAlreadyRevoked(signer);
        a.revoked = true;
        emit AttestationRevoked(signer, msg.sender);
    }

    /// @notice True when `signer` has an unrevoked, unexpired attestation whose measurement is approved now, under the
    ///         same approval (epoch) it was published under.
    function isAttested(address signer) external view returns (bool) {
        StoredAttestation storage a = _attestations[signer];
        if (a.operator == address(0) || a.revoked || a.expiresAt <= block.timestamp) return false;
        Measurement storage m = _measurements[a.measurementId];
        return m.approved && m.epoch == a.measurementEpoch;
    }

    /// @notice The full record of `signer` (all zero if never published), whether or not it is currently valid.
    function getAttestation(address signer) external view returns (Attestation memory) {
        StoredAttestation storage a = _attestations[signer];
        return Attestation({
            evidenceHash: a.evidenceHash,
            platform: a.operator == address(0) ? bytes32(0) : _measurements[a.measurementId].platform,
            measurementId: a.measurementId,
            hpkeKeyHash: a.hpkeKeyHash,
            operator: a.operator,
            publishedAt: a.publishedAt,
            expiresAt: a.expiresAt,
            measurementEpoch: a.measurementEpoch,
            revoked: a.revoked
        });
    }

    function _knownPlatform(bytes32 platform) private pure returns (bool) {
        return platform == PLATFORM_SEV_SNP || platform == PLATFORM_TDX || platform == PLATFORM_NITRO
            || platform == PLATFORM_SIMULATED;
    }
}
