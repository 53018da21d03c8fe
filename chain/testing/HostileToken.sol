// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// Test only: an ERC-20 that misbehaves on demand, to prove VeilPaymentChannels resists it.
/// `fee` > 0 delivers `amount - fee` (fee-on-transfer). A non-empty `hook` is called on `hookTarget` from inside the
/// next transfer (a reentrancy attempt); the outcome is recorded instead of reverting, so the test can inspect it.
contract HostileToken {
    mapping(address => uint256) public balanceOf;
    uint256 public fee;
    address public hookTarget;
    bytes public hook;
    bool public hookSucceeded;
    bytes public hookResult;

    function mint(address to, uint256 amount) external { balanceOf[to] += amount; }
    function setFee(uint256 f) external { fee = f; }
    function setHook(address target, bytes calldata data) external { hookTarget = target; hook = data; }

    function transfer(address to, uint256 amount) external returns (bool) { _move(msg.sender, to, amount); return true; }
    function transferFrom(address from, address to, uint256 amount) external returns (bool) { _move(from, to, amount); return true; }

    function _move(address from, address to, uint256 amount) private {
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        if (hook.length != 0) {
            bytes memory data = hook;
            delete hook;
            (hookSucceeded, hookResult) = hookTarget.call(data);
        }
    }
}
