import dataclasses

import numpy as np
import tensorflow as tf

import configs
import lstm
import ptb_word_lm

tf.compat.v1.disable_eager_execution()
TINY = dataclasses.replace(configs.get_config("test"), num_layers=2, hidden_size=8, num_steps=5,
                           batch_size=3, vocab_size=11, max_grad_norm=5)


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


def random_ids(n, seed=0):
    return np.random.RandomState(seed).randint(0, TINY.vocab_size, n).astype(np.int32)


def test_basic_and_block_give_the_same_outputs_and_gradients():
    config = dataclasses.replace(TINY, init_scale=0.5)
    input_ = ptb_word_lm.PTBInput(random_ids(200), config.batch_size, config.num_steps)
    rng = np.random.RandomState(3)
    x, y = rng.randint(0, 11, (2, 3, 5))
    with tf.Graph().as_default():
        models, grads = {}, {}
        for mode in ("basic", "block"):
            with tf.compat.v1.variable_scope("Model", reuse=mode == "block",
                                             initializer=tf.compat.v1.random_uniform_initializer(-0.5, 0.5, seed=1)):
                models[mode] = ptb_word_lm.PTBModel(False, config, input_, mode)
            grads[mode] = tf.gradients(models[mode].cost, tf.compat.v1.trainable_variables())
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            carried_state = rng.randn(config.num_layers, 2, 3, 8)  # a non-zero state from a previous batch
            values = {}
            for mode, model in models.items():
                feed = {model.input_data: x, model.targets: y}
                for (c, h), (c_value, h_value) in zip(model.initial_state, carried_state):
                    feed[c], feed[h] = c_value, h_value
                values[mode] = session.run([model.cost, model.final_state, grads[mode]], feed)
    basic, block = (tf.nest.flatten(values[m]) for m in ("basic", "block"))
    assert len(basic) == len(block) > 10
    for a, b in zip(basic, block):
        np.testing.assert_allclose(a, b, atol=1e-5)
