import numpy as np
import tensorflow as tf

import lstm

tf.compat.v1.disable_eager_execution()


def test_layers_agree_in_outputs_and_in_every_gradient_including_the_final_state():
    steps, batch, inputs_size, hidden = 4, 3, 5, 6
    values = {}
    for mode, layer in lstm.LSTM_LAYERS.items():
        with tf.Graph().as_default(), tf.compat.v1.Session() as session:
            args = [tf.constant(value) for value in (
                np.random.RandomState(1).randn(steps, batch, inputs_size).astype(np.float32),
                np.random.RandomState(2).randn(batch, hidden).astype(np.float32),
                np.random.RandomState(3).randn(batch, hidden).astype(np.float32),
                np.random.RandomState(4).uniform(-0.5, 0.5, (inputs_size + hidden, 4 * hidden)).astype(np.float32),
                np.random.RandomState(5).uniform(-0.5, 0.5, 4 * hidden).astype(np.float32))]
            outputs, c, h = layer(*args)
            # Upstream gradients into every output, the final c and h included.
            upstream = [tf.constant(np.random.RandomState(6 + i).randn(*t.shape).astype(np.float32))
                        for i, t in enumerate((outputs, c, h))]
            loss = sum(tf.reduce_sum(t * u) for t, u in zip((outputs, c, h), upstream))
            values[mode] = session.run([outputs, c, h] + tf.gradients(loss, args))
    for basic, block in zip(values["basic"], values["block"]):
        np.testing.assert_allclose(basic, block, atol=1e-5)
