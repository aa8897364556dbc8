"""The peer `make bench PEERS=1` times the project against: a plain PyTorch eager training loop for each of
the four models (the MLP, LeNet-5, with dropout, with batch norm), on the same data, batch size, optimizer,
loss and learning-rate schedule.

    .bench-venv/bin/python -m fmnist.speed.peers --model lenet --batch-size 256 --epochs 3 --learning-rate 0.005

Runs only under the benchmark's own environment (torch and numpy; the bench creates it): the project never
imports this module, and torch is not one of its dependencies. Prints one JSON object.

An epoch is timed as the project's EpochTimer times a Keras epoch: a fresh shuffle, every training step
(forward, loss, backward, Adam step, running loss and accuracy), then the validation pass over the 12,000
validation images in batches of 2,048 without gradients. Reported: the median over the epochs after the
first (warm-up), as for the project.
"""
import argparse
import json
import math
import statistics
import time

from fmnist.speed import architecture

INFERENCE_BATCH = 2048  # the project's validation batch (fmnist.training.INFERENCE_BATCH)
ADAM_EPSILON = 1e-7  # Keras's default; PyTorch's is 1e-8


def build(layers):
    """A torch.nn.Sequential of the given layers (fmnist.speed.architecture): ReLU after every hidden dense or
    convolution layer, then its batch norm and dropout, as in the project's models; raw class scores out (the
    cross-entropy applies the softmax)."""
    from torch import nn

    modules = []
    if isinstance(layers[0], architecture.Conv):
        modules.append(nn.Unflatten(1, (1, 28, 28)))  # the project's models also take the flat 784 vector
    spatial = False  # whether the tensor is still an image (batch norm's kind, the flattening before Dense)
    for i, layer in enumerate(layers):
        if isinstance(layer, architecture.Dense):
            if spatial:
                modules.append(nn.Flatten())  # conv3's 120 x 1 x 1 map: the order of the flattening is moot
                spatial = False
            modules.append(nn.Linear(layer.n_in, layer.n_out))
        elif isinstance(layer, architecture.Conv):
            padding = layer.kernel // 2 if layer.padding == "same" else 0
            modules.append(nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, padding=padding))
            spatial = True
        elif isinstance(layer, architecture.MaxPool):
            modules.append(nn.MaxPool2d(layer.size))
        elif isinstance(layer, architecture.BatchNorm):
            # Keras's defaults: epsilon 1e-3, moving averages kept with weight 0.99 (PyTorch's momentum 0.01).
            kind = nn.BatchNorm2d if spatial else nn.BatchNorm1d
            modules.append(kind(layer.channels, eps=1e-3, momentum=0.01))
        elif isinstance(layer, architecture.Dropout):
            modules.append(nn.Dropout(layer.rate))
        if isinstance(layer, (architecture.Dense, architecture.Conv)) and i < len(layers) - 1:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "lenet", "dropout", "bn"), required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=4, help="the first is a warm-up, not counted")
    parser.add_argument("--learning-rate", type=float, required=True, help="Adam's peak learning rate")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="cosine")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="data/processed")
    parser.add_argument("--dropout-rate", type=float, default=0.5, help="the dropout model's (params.yaml)")
    parser.add_argument("--dropout-after", nargs="*", default=[], help="the dropout model's hidden layers")
    args = parser.parse_args()

    start = time.perf_counter()
    import numpy as np
    import torch
    import torch.nn.functional as F
    import_seconds = time.perf_counter() - start

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def load(split):
        x = torch.from_numpy(np.load(f"{args.data_dir}/{split}_x.npy", allow_pickle=False))
        y = torch.from_numpy(np.load(f"{args.data_dir}/{split}_y.npy", allow_pickle=False).astype(np.int64))
        return x, y

    (x_train, y_train), (x_val, y_val) = load("train"), load("val")
    layers = architecture.of(args.model, args.dropout_rate, args.dropout_after)
    model = build(layers)
    parameters = sum(p.numel() for p in model.parameters())
    if parameters != architecture.parameter_count(layers):
        raise SystemExit(f"{args.model}: {parameters} parameters in PyTorch, "
                         f"{architecture.parameter_count(layers)} in fmnist.speed.architecture")

    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=ADAM_EPSILON)
    n_train = len(x_train)
    total_steps = args.epochs * -(-n_train // args.batch_size)
    # Keras's CosineDecay, stepped every batch as in the project; constant otherwise.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, (lambda step: 1.0) if args.lr_schedule == "constant"
                                                 else lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
    shuffle = torch.Generator().manual_seed(args.seed)

    epoch_seconds, history = [], []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(n_train, generator=shuffle)
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
        for first in range(0, n_train, args.batch_size):
            batch = order[first:first + args.batch_size]
            x, y = x_train[batch], y_train[batch]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
        model.eval()
        val_loss_sum, val_correct = 0.0, 0
        with torch.no_grad():
            for first in range(0, len(x_val), INFERENCE_BATCH):
                x, y = x_val[first:first + INFERENCE_BATCH], y_val[first:first + INFERENCE_BATCH]
                logits = model(x)
                val_loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
                val_correct += (logits.argmax(1) == y).sum().item()
        history.append({"loss": loss_sum.item() / n_train, "accuracy": correct.item() / n_train,
                        "val_loss": val_loss_sum / len(x_val), "val_accuracy": val_correct / len(x_val)})
        epoch_seconds.append(time.perf_counter() - start)

    timed = epoch_seconds[1:] or epoch_seconds
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager", "model": args.model, "parameters": parameters,
        "batch_size": args.batch_size, "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "import_seconds": import_seconds,
        "seconds_per_epoch": statistics.median(timed),
        "epoch_seconds": epoch_seconds, "history": history,
    }))


if __name__ == "__main__":
    main()
