"""The LSTM layer of Zaremba et al. (2014), §3.1, in two implementations that compute the same thing.

- basic: the cell written out with TensorFlow ops and unrolled over time.
- block: TensorFlow's fused BlockLSTMV2 kernel, with a backward pass of our own (below).

Both take time-major inputs [T, B, n], the initial state (c, h) [B, H], a kernel [n + H, 4H]
and a bias [4H] with the gates in the order i, f, g, o, and return (outputs [T, B, H], c, h).
"""
from quiet_tf import tf


def basic_lstm(inputs, c, h, kernel, bias):
    """An LSTM layer unrolled over the time-major inputs [T, B, n]; gates i, f, g, o.

    Zaremba et al. §3.1: i, f, o = sigm, g = tanh of [x, h] W + b; c = f*c + i*g; h = o*tanh(c).
    """
    num_steps, num_inputs, hidden_size = inputs.shape[0], inputs.shape[2], c.shape[1]
    kernel_x, kernel_h = kernel[:num_inputs], kernel[num_inputs:]
    # The input half of [x, h] W does not depend on the recurrence: one matmul for all steps.
    x_proj = tf.matmul(tf.reshape(inputs, [-1, num_inputs]), kernel_x) + bias
    x_proj = tf.reshape(x_proj, [num_steps, -1, 4 * hidden_size])
    outputs = []
    for t in range(num_steps):
        i, f, g, o = tf.split(x_proj[t] + tf.matmul(h, kernel_h), 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        outputs.append(h)
    return tf.stack(outputs), c, h


def _swap_forget_and_cell_gates(m, axis=-1):
    """Gates i, f, c, o <-> i, c, f, o along axis (the permutation is its own inverse)."""
    i, f, c, o = tf.split(m, 4, axis=axis)
    return tf.concat([i, c, f, o], axis=axis)


@tf.RegisterGradient("BlockLSTMV2Backward")
def _block_lstm_v2_backward(op, *grads):
    """Backpropagation through time for BlockLSTMV2, with the weight work batched over time.

    Only dh_{t-1} = dgates_t W_h^T has to run step by step; the weight, bias and input gradients
    are one large matmul each over all time steps.
    (TensorFlow's registered gradient, BlockLSTMGrad, also assumes the wrong gate layout i, c, f, o.)
    """
    _, x, c_first, h_first, w, wci, wcf, wco, b = op.inputs
    i, cs, f, o, ci, co, hs = op.outputs
    num_inputs = x.shape[2]
    # LSTMBlockCellGrad returns dgates in the order i, c, f, o. W_h^T is copied once per batch into
    # that row order: a [batch, 4H] x [4H, H] matmul runs 2-3x faster here than one that transposes
    # W_h on the fly, and the row swap after the transpose keeps Grappler from folding it back.
    w_h_transposed = _swap_forget_and_cell_gates(tf.transpose(w[num_inputs:]), axis=0)
    c_steps, h_steps = tf.unstack(cs), tf.unstack(hs)
    c_prev, h_prev = [c_first] + c_steps[:-1], [h_first] + h_steps[:-1]
    steps = list(zip(tf.unstack(x), c_prev, h_prev, c_steps, *map(tf.unstack, (i, f, o, ci, co, grads[1], grads[6]))))
    dc, dh, dgates = tf.zeros_like(c_first), tf.zeros_like(h_first), []
    for x_t, c_prev_t, h_prev_t, c_t, i_t, f_t, o_t, ci_t, co_t, dc_t, dh_t in reversed(steps):
        dc, dgates_t, _, _, _ = tf.raw_ops.LSTMBlockCellGrad(
            x=x_t, cs_prev=c_prev_t, h_prev=h_prev_t, w=w, wci=wci, wcf=wcf, wco=wco, b=b,
            i=i_t, cs=c_t, f=f_t, o=o_t, ci=ci_t, co=co_t, cs_grad=dc_t + dc, h_grad=dh_t + dh,
            use_peephole=False)
        dh = tf.matmul(dgates_t, w_h_transposed)
        dgates.append(dgates_t)
    # [T * B, 4H], time-major like x, back in the order i, f, g, o of w and b: one copy of the
    # gradients instead of one of the weight and one of its gradient.
    dgates = _swap_forget_and_cell_gates(tf.concat(dgates[::-1], axis=0))
    xh = tf.concat([tf.reshape(x, [-1, num_inputs]), tf.concat(h_prev, axis=0)], axis=1)
    dx = tf.reshape(tf.matmul(dgates, w[:num_inputs], transpose_b=True), tf.shape(x))
    dw = tf.matmul(xh, dgates, transpose_a=True)
    db = tf.reduce_sum(dgates, axis=0)
    no_peephole = tf.zeros_like(wci)
    return None, dx, dc, dh, dw, no_peephole, no_peephole, no_peephole, db


def block_lstm(inputs, c, h, kernel, bias):
    """The same LSTM layer as basic_lstm, as one fused BlockLSTMV2 kernel (gates i, f, g, o)."""
    no_peephole = tf.zeros([c.shape[1]])
    with tf.compat.v1.get_default_graph().gradient_override_map({"BlockLSTMV2": "BlockLSTMV2Backward"}):
        _, cs, _, _, _, _, hs = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(inputs)[0], tf.int64), x=inputs, cs_prev=c, h_prev=h,
            w=kernel, wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=bias, use_peephole=False)
    return hs, cs[-1], hs[-1]


LSTM_LAYERS = {"basic": basic_lstm, "block": block_lstm}
RNN_MODES = tuple(LSTM_LAYERS)
