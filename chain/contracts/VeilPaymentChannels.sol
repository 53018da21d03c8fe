// SPDX-License-Identifier: Apache-2.0
// ^0.8.28 rather than the registry's ^0.8.24: the reentrancy lock is a `transient` state variable (0.8.28+).
pragma solidity ^0.8.28;

interface IERC20Like {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

interface IERC20PermitLike {
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;
}

/// @title VeilPaymentChannels: unidirectional ERC-20 payment channels with cumulative EIP-712 vouchers.
/// @notice Shaped after x402's `batch-settlement` (x402BatchSettlement): the channel id is the EIP-712 hash of its
///         config, a channel opens implicitly on its first deposit, and the payer's session key (the authorizer) signs
///         `Voucher(bytes32 channelId,uint128 maxClaimableAmount)`, a cumulative ceiling. The receiver claims many
///         channels in one transaction; each entry names the cumulative `totalClaimed` it charged (at most the voucher's
///         ceiling) and pays only the increase over what was already claimed, so an old claim is a no-op. The payer's
///         unilateral exit is `initiateWithdraw` → `withdrawDelay` → `finalizeWithdraw`; the receiver can claim until
///         the finalize is mined.
/// @dev Native ETH is not accepted (`token == address(0)` is refused): wrap it as WETH. Checks-effects-interactions
///      everywhere, plus a transient-storage lock because tokens are arbitrary contracts. Fee-on-transfer tokens are
///      refused by checking the contract's balance delta on deposit.
contract VeilPaymentChannels {
    struct ChannelConfig {
        address payer;
        // The authorizer the channel opens with; part of the id. Rotations are tracked in storage.
        address payerAuthorizer;
        address receiver;
        address token;
        uint40 withdrawDelay;
        bytes32 salt;
    }

    /// x402's `VoucherClaim{voucher, signature, totalClaimed}`, flattened: the signed voucher is a ceiling (what the client
    /// was charged before its last call plus that call's price ceiling); `totalClaimed` is what the receiver actually
    /// charged in total, which metered billing makes lower than the ceiling.
    struct Claim {
        ChannelConfig config;
        uint128 maxClaimableAmount;
        bytes signature;
        uint128 totalClaimed; // cumulative, not a delta: replaying a claim is a no-op
    }

    struct Channel {
        uint128 deposited; // cumulative deposits
        uint128 claimed; // cumulative claims
        address authorizer; // zero until the first deposit: "opened" means authorizer != 0
        uint40 withdrawReadyAt; // 0 = no withdrawal pending
        bool closed; // final: a closed id never reopens (use a new salt)
        address pendingAuthorizer; // rotation target, accepted at once; the old key stays valid until rotationReadyAt
        uint40 rotationReadyAt;
    }

    uint40 public constant MIN_WITHDRAW_DELAY = 15 minutes;
    uint40 public constant MAX_WITHDRAW_DELAY = 30 days;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    bytes32 public constant CLOSE_TYPEHASH = keccak256("Close(bytes32 channelId)");
    bytes32 private constant NAME_HASH = keccak256("Veil Payment Channels");
    bytes32 private constant VERSION_HASH = keccak256("1");

    uint256 private immutable CACHED_CHAIN_ID;
    bytes32 private immutable CACHED_DOMAIN_SEPARATOR;

    mapping(bytes32 => Channel) private _channels;
    // EIP-1153 transient storage: cleared at the end of every call below, so costs ~200 gas instead of a storage write.
    bool private transient _locked;

    event ChannelOpened(
        bytes32 indexed channelId, address indexed payer, address indexed receiver, address payerAuthorizer, address token, uint40 withdrawDelay, bytes32 salt
    );
    event Deposited(bytes32 indexed channelId, address indexed from, uint128 amount, uint128 deposited);
    event Claimed(bytes32 indexed channelId, address indexed receiver, uint128 amount, uint128 claimed);
    event WithdrawInitiated(bytes32 indexed channelId, uint40 readyAt);
    event ChannelClosed(bytes32 indexed channelId, uint128 claimed, uint128 refunded, bool cooperative);
    event AuthorizerRotationStarted(bytes32 indexed channelId, address indexed from, address indexed to, uint40 readyAt);

    error ZeroAddress();
    error ZeroAmount();
    error NativeTokenUnsupported();
    error WithdrawDelayOutOfRange(uint40 delay);
    error ChannelNotFound(bytes32 channelId);
    error ChannelIsClosed(bytes32 channelId);
    error NotPayer();
    error NotReceiver();
    error InvalidSignature(bytes32 channelId);
    error VoucherExceedsDeposit(bytes32 channelId, uint128 totalClaimed, uint128 deposited);
    error ClaimExceedsVoucher(bytes32 channelId, uint128 totalClaimed, uint128 maxClaimableAmount);
    error WithdrawPending(bytes32 channelId);
    error WithdrawNotInitiated(bytes32 channelId);
    error WithdrawNotReady(bytes32 channelId, uint40 readyAt);
    error RotationPending(bytes32 channelId);
    error DepositOverflow();
    error TokenTransferFailed(address token);
    error FeeOnTransferToken(address token);
    error Reentrancy();

    constructor() {
        CACHED_CHAIN_ID = block.chainid;
        CACHED_DOMAIN_SEPARATOR = _buildDomainSeparator();
    }

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    // ───────────────────────────── views ─────────────────────────────

    function domainSeparator() public view returns (bytes32) {
        // Recomputed after a fork changes the chain id, so vouchers never replay across the two chains.
        return block.chainid == CACHED_CHAIN_ID ? CACHED_DOMAIN_SEPARATOR : _buildDomainSeparator();
    }

    function channelId(ChannelConfig calldata c) public view returns (bytes32) {
        return _hashTypedData(
            keccak256(abi.encode(CHANNEL_CONFIG_TYPEHASH, c.payer, c.payerAuthorizer, c.receiver, c.token, c.withdrawDelay, c.salt))
        );
    }

    function getChannel(bytes32 id) external view returns (Channel memory) {
        return _channels[id];
    }

    // ───────────────────────────── payer ─────────────────────────────

    /// Opens the channel on its first deposit, tops it up afterwards. Anyone may fund a channel; the tokens come from msg.sender.
    function deposit(ChannelConfig calldata config, uint128 amount) external nonReentrant returns (bytes32 id) {
        id = _deposit(config, amount);
    }

    /// `deposit` after an EIP-2612 permit from msg.sender, so a payer needs no separate approve transaction.
    function depositWithPermit(ChannelConfig calldata config, uint128 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (bytes32 id)
    {
        // A permit seen in the mempool can be submitted first by anyone, which would make this call revert. Ignore a
        // failed permit: if the allowance is really missing, the transferFrom in _deposit fails instead.
        try IERC20PermitLike(config.token).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        id = _deposit(config, amount);
    }

    /// Starts the exit clock. The receiver can still claim until `finalizeWithdraw` is mined.
    function initiateWithdraw(ChannelConfig calldata config) external {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        if (msg.sender != config.payer) revert NotPayer();
        if (ch.withdrawReadyAt != 0) revert WithdrawPending(id);
        uint40 readyAt = uint40(block.timestamp) + config.withdrawDelay;
        ch.withdrawReadyAt = readyAt;
        emit WithdrawInitiated(id, readyAt);
    }

    /// Refunds everything not claimed and closes the channel for good.
    function finalizeWithdraw(ChannelConfig calldata config) external nonReentrant {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        if (msg.sender != config.payer) revert NotPayer();
        uint40 readyAt = ch.withdrawReadyAt;
        if (readyAt == 0) revert WithdrawNotInitiated(id);
        if (block.timestamp < readyAt) revert WithdrawNotReady(id, readyAt);
        _close(id, ch, config, false);
    }

    /// Rotates the session key. The new key is valid at once; the old one stays valid for `withdrawDelay`, so the payer
    /// cannot void vouchers the receiver already holds by rotating (the same window the receiver has on a withdrawal).
    function rotateAuthorizer(ChannelConfig calldata config, address newAuthorizer) external {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        if (msg.sender != config.payer) revert NotPayer();
        if (newAuthorizer == address(0)) revert ZeroAddress();
        address current = ch.authorizer;
        if (ch.pendingAuthorizer != address(0)) {
            if (block.timestamp < ch.rotationReadyAt) revert RotationPending(id);
            current = ch.pendingAuthorizer; // the previous rotation completed: promote it
            ch.authorizer = current;
        }
        uint40 readyAt = uint40(block.timestamp) + config.withdrawDelay;
        ch.pendingAuthorizer = newAuthorizer;
        ch.rotationReadyAt = readyAt;
        emit AuthorizerRotationStarted(id, current, newAuthorizer, readyAt);
    }

    // ──────────────────────────── receiver ────────────────────────────

    /// Claims a batch of vouchers; every entry must name msg.sender as receiver. Each entry pays `totalClaimed` minus what
    /// its channel has already paid out, so a stale (lower or equal) total is skipped rather than failing the batch. One
    /// transfer per run of consecutive entries with the same token.
    function claim(Claim[] calldata claims) external nonReentrant {
        address token;
        uint256 owed;
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            if (c.config.receiver != msg.sender) revert NotReceiver();
            uint128 amount = _applyClaim(c.config, c.maxClaimableAmount, c.signature, c.totalClaimed);
            if (c.config.token != token) {
                if (owed != 0) _pay(token, msg.sender, owed);
                token = c.config.token;
                owed = 0;
            }
            owed += amount;
        }
        if (owed != 0) _pay(token, msg.sender, owed);
    }

    /// Cooperative close by the receiver: refunds `deposited - claimed` to the payer, i.e. also whatever part of the
    /// best voucher's ceiling the receiver did not charge. Claim first: unclaimed charges die with the channel.
    function close(ChannelConfig calldata config) external nonReentrant {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        if (msg.sender != config.receiver) revert NotReceiver();
        _close(id, ch, config, true);
    }

    /// Cooperative close relayed by anyone (typically the payer) with the receiver's EIP-712 `Close(bytes32 channelId)`.
    function closeWithSignature(ChannelConfig calldata config, bytes calldata receiverSignature) external nonReentrant {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        bytes32 digest = _hashTypedData(keccak256(abi.encode(CLOSE_TYPEHASH, id)));
        if (_recover(digest, receiverSignature) != config.receiver) revert InvalidSignature(id);
        _close(id, ch, config, true);
    }

    // ──────────────────────────── internals ────────────────────────────

    function _deposit(ChannelConfig calldata config, uint128 amount) private returns (bytes32 id) {
        if (amount == 0) revert ZeroAmount();
        id = channelId(config);
        Channel storage ch = _channels[id];
        if (ch.closed) revert ChannelIsClosed(id);
        if (ch.withdrawReadyAt != 0) revert WithdrawPending(id);
        bool opening = ch.authorizer == address(0);
        if (opening) {
            if (config.payer == address(0) || config.payerAuthorizer == address(0) || config.receiver == address(0)) revert ZeroAddress();
            if (config.token == address(0)) revert NativeTokenUnsupported();
            if (config.withdrawDelay < MIN_WITHDRAW_DELAY || config.withdrawDelay > MAX_WITHDRAW_DELAY) {
                revert WithdrawDelayOutOfRange(config.withdrawDelay);
            }
        }
        uint256 total = uint256(ch.deposited) + amount;
        if (total > type(uint128).max) revert DepositOverflow();
        // Effects first; the lock covers the balance-delta window, and a revert below undoes them.
        if (opening) {
            ch.authorizer = config.payerAuthorizer;
            emit ChannelOpened(id, config.payer, config.receiver, config.payerAuthorizer, config.token, config.withdrawDelay, config.salt);
        }
        ch.deposited = uint128(total);
        uint256 before = IERC20Like(config.token).balanceOf(address(this));
        _call(config.token, abi.encodeCall(IERC20Like.transferFrom, (msg.sender, address(this), amount)));
        if (IERC20Like(config.token).balanceOf(address(this)) - before != amount) revert FeeOnTransferToken(config.token);
        emit Deposited(id, msg.sender, amount, uint128(total));
    }

    /// Every entry is checked in full, stale or not (x402 skips a stale row before verifying it): a receiver holding a
    /// bad voucher learns so at once instead of on its next higher claim.
    function _applyClaim(ChannelConfig calldata config, uint128 maxClaimable, bytes calldata signature, uint128 totalClaimed)
        private
        returns (uint128)
    {
        bytes32 id = channelId(config);
        Channel storage ch = _openChannel(id);
        bytes32 digest = _hashTypedData(keccak256(abi.encode(VOUCHER_TYPEHASH, id, maxClaimable)));
        address signer = _recover(digest, signature);
        if (!_isAuthorizer(ch, signer)) revert InvalidSignature(id);
        if (totalClaimed > maxClaimable) revert ClaimExceedsVoucher(id, totalClaimed, maxClaimable);
        // The deposit bounds what is paid, not the ceiling: a voucher whose ceiling passed the deposit still pays a
        // charged total within it (as in x402).
        uint128 deposited = ch.deposited;
        if (totalClaimed > deposited) revert VoucherExceedsDeposit(id, totalClaimed, deposited);
        uint128 claimed = ch.claimed;
        if (totalClaimed <= claimed) return 0; // cumulative: a stale total pays nothing more
        ch.claimed = totalClaimed;
        uint128 amount = totalClaimed - claimed;
        emit Claimed(id, msg.sender, amount, totalClaimed);
        return amount;
    }

    function _isAuthorizer(Channel storage ch, address signer) private view returns (bool) {
        if (signer == address(0)) return false;
        address pending = ch.pendingAuthorizer;
        if (pending == address(0)) return signer == ch.authorizer;
        if (signer == pending) return true;
        return block.timestamp < ch.rotationReadyAt && signer == ch.authorizer;
    }

    function _close(bytes32 id, Channel storage ch, ChannelConfig calldata config, bool cooperative) private {
        uint128 claimed = ch.claimed;
        uint128 refund = ch.deposited - claimed;
        ch.closed = true;
        emit ChannelClosed(id, claimed, refund, cooperative);
        if (refund != 0) _pay(config.token, config.payer, refund);
    }

    function _openChannel(bytes32 id) private view returns (Channel storage ch) {
        ch = _channels[id];
        if (ch.authorizer == address(0)) revert ChannelNotFound(id);
        if (ch.closed) revert ChannelIsClosed(id);
    }

    function _pay(address token, address to, uint256 amount) private {
        _call(token, abi.encodeCall(IERC20Like.transfer, (to, amount)));
    }

    /// SafeERC20-style: the call must succeed, the token must have code, and a returned value must be `true`.
    function _call(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length == 0 && token.code.length == 0) || (ret.length != 0 && (ret.length < 32 || !abi.decode(ret, (bool))))) {
            revert TokenTransferFailed(token);
        }
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// 65-byte ECDSA only (EOA session keys); high-s signatures are refused so each voucher has one encoding.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        if (v != 27 && v != 28) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
