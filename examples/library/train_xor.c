/*
 * train_xor.c: the smallest complete use of the nncl library: the lecture's XOR problem with a tanh
 * network, trained by batch gradient descent on the backend named on the command line (default cpu).
 *
 *   cc train_xor.c $(pkg-config --cflags --libs nncl) -o train_xor && ./train_xor [cpu|opencl|auto]
 */
#include <stdio.h>
#include <string.h>

#include <nncl/nncl.h>
#include <nncl/nncl_model.h>
#include <nncl/nncl_train.h>

int main(int argc, char **argv) {
    const char *backend_name = argc > 1 ? argv[1] : "cpu";
    float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {-1, 1, 1, -1};
    struct nncl_dataset data = {.n = 4, .n_inputs = 2, .n_outputs = 1, .x = x, .y = y, .task = NNCL_TASK_REGRESSION};
    strcpy(data.source, "xor");

    /* 2 inputs -> 4 tanh units -> 1 tanh output, squared error: the lecture's network */
    struct nncl_model_spec spec = {.n_inputs = 2, .loss = NNCL_LOSS_MSE};
    if (nncl_parse_hidden("4:tanh", &spec) != NNCL_OK) goto fail_early;
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){.units = 1, .act = NNCL_ACT_TANH};

    struct nncl_backend *be = NULL;
    struct nncl_model *model = NULL;
    if (nncl_backend_init(backend_name, &be) != NNCL_OK) goto fail_early;
    if (nncl_model_init(be, &spec, NNCL_INIT_UNIFORM, 2, &model) != NNCL_OK) goto fail;

    struct nncl_train_options opts = nncl_train_defaults();
    opts.batch_size = 0; /* the whole set: batch gradient descent */
    opts.optimizer = NNCL_OPT_SGD;
    opts.lr = 0.2f;
    opts.epochs = 2000;
    struct nncl_train_result result;
    if (nncl_train(model, &data, &opts, &result) != NNCL_OK) goto fail;

    float out[4];
    if (nncl_predict(model, &data, 0, out) != NNCL_OK) goto fail;
    int correct = 0;
    for (int i = 0; i < 4; i++) {
        printf("xor(%g, %g) = %+.3f (target %+g)\n", x[2 * i], x[2 * i + 1], out[i], y[i]);
        correct += out[i] * y[i] > 0;
    }
    printf("%d/4 correct after %zu epochs on %s, loss %.4f\n", correct, result.epochs, nncl_backend_name(be),
           result.last.train_loss);
    nncl_model_free(model);
    nncl_backend_free(be);
    return correct == 4 ? 0 : 1;

fail:
    nncl_model_free(model);
    nncl_backend_free(be);
fail_early:
    fprintf(stderr, "train_xor: %s\n", nncl_last_error());
    return 1;
}
