/*
 * nncl_optlist.h: THE list of optimizers, as an X-macro (included by nncl_train.h).
 *
 * enum nncl_optimizer, the names nncl_optimizer_name()/nncl_optimizer_from_name() know (the CLI's
 * --optimizer values and the checkpoint's), the "choose ..." message, the help text and the number of
 * state vectors each keeps (nncl_optimizer_state_slots: the trainer's state buffer, the memory plan, the
 * checkpoint's optimizer.state) all come from this list. Every switch over the enum has a case per value
 * and no default, so -Wall names each place a new optimizer must reach (src/optimizer.c optimizer_step, the
 * validator's float64 step and bound in src/check/check_optim.c check_update).
 *
 * Values are the order of the list: append, never reorder (checkpoints store the number).
 *
 * X(ID, "name", state_slots, "what it is")
 */
#ifndef NNCL_OPTLIST_H
#define NNCL_OPTLIST_H

#define NNCL_OPTIMIZER_LIST(X)                                                                               \
    X(SGD, "sgd", 0, "plain gradient descent")                                                               \
    X(MOMENTUM, "momentum", 1, "heavy-ball momentum (PyTorch's SGD form)")                                   \
    X(ADAM, "adam", 2, "Adam; --weight-decay is L2 (added to the gradient)")                                 \
    X(NESTEROV, "nesterov", 1, "Nesterov momentum (PyTorch's SGD nesterov=True form)")                       \
    X(RMSPROP, "rmsprop", 2, "RMSprop (PyTorch's form; square average and momentum buffer)")                 \
    X(ADAMW, "adamw", 2, "AdamW; --weight-decay is decoupled (w -= lr wd w)")                                \
    X(IRPROP, "irprop", 2, "iRPROP- (full-batch only; previous gradient and step sizes)")

/* "|sgd|momentum|...": each name after a '|', as one string literal (skip the first character for
 * "sgd|momentum|..."); NNCL_OPTIMIZER_NAMES_SPACED: each after a space (help texts). */
#define NNCL_OPT_NAME_PIPED_(ID, name, ...) "|" name
#define NNCL_OPTIMIZER_NAMES_PIPED NNCL_OPTIMIZER_LIST(NNCL_OPT_NAME_PIPED_)
#define NNCL_OPT_NAME_SPACED_(ID, name, ...) " " name
#define NNCL_OPTIMIZER_NAMES_SPACED NNCL_OPTIMIZER_LIST(NNCL_OPT_NAME_SPACED_)

#endif /* NNCL_OPTLIST_H */
